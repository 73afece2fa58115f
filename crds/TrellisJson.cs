using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using k8s.Models;

namespace Trellis.Crds;

/// <summary>
/// Serializers for Trellis' own types, generated at build time. The operator and the agent add <see cref="Resolver"/> to
/// the options they talk to the API server with before their first call; a Native AOT process has no other way to
/// read a PodNetwork.
/// </summary>
public static class TrellisJson
{
    public static IJsonTypeInfoResolver Resolver => TrellisJsonContext.Default;
}

/// <summary>
/// Every Trellis type that crosses the API, and what merge patches built as dictionaries hold. Names and nulls follow
/// KubernetesJson's conventions (camelCase, nulls left out); the options' converters (timestamps) apply to these types too.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(PodNetwork))]
[JsonSerializable(typeof(PodNetworkList))]
[JsonSerializable(typeof(KubernetesList<PodNetwork>))]
[JsonSerializable(typeof(NodeSubnet))]
[JsonSerializable(typeof(NodeSubnetList))]
[JsonSerializable(typeof(KubernetesList<NodeSubnet>))]
[JsonSerializable(typeof(List<BlockUsageStatus>))]
[JsonSerializable(typeof(List<FamilyUsageStatus>))]
[JsonSerializable(typeof(List<BgpPeerStatus>))]
[JsonSerializable(typeof(Dictionary<string, object>))]
[JsonSerializable(typeof(List<string>))]
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(long))]
[JsonSerializable(typeof(bool))]
[JsonSerializable(typeof(DateTime))]
internal sealed partial class TrellisJsonContext : JsonSerializerContext;
