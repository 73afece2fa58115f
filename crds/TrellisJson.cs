using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using k8s;
using k8s.Models;

namespace Trellis.Crds;

/// <summary>
/// Serialization of Trellis' own types through <see cref="KubernetesJson"/>, generated at build time. KubernetesClient's
/// Native AOT package knows only the Kubernetes models; the operator and the agent add these before their first API call.
/// </summary>
public static class TrellisJson
{
    private static int _registered;

    /// <summary>The generated metadata of Trellis' types, for options of one's own (tests compare it with reflection's).</summary>
    public static IJsonTypeInfoResolver Resolver => TrellisJsonContext.Default;

    /// <summary>
    /// Puts <see cref="TrellisJsonContext"/> first in KubernetesJson's resolver chain; a second call does nothing. Without
    /// it a Native AOT process cannot read a PodNetwork; a JIT-compiled one (tests, trellis-local) would fall back to
    /// reflection, so there a call that comes after KubernetesJson was first used changes nothing and is not an error.
    /// </summary>
    public static void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 1)
            return;
        try
        {
            KubernetesJson.AddJsonOptions(options => options.TypeInfoResolver = JsonTypeInfoResolver.Combine(TrellisJsonContext.Default, options.TypeInfoResolver));
        }
        catch (InvalidOperationException) when (JsonSerializer.IsReflectionEnabledByDefault)
        {
        }
    }
}

/// <summary>
/// Every Trellis type that crosses the API, and what merge patches built as dictionaries hold. Names and nulls follow
/// KubernetesJson's options (camelCase, nulls left out); its converters (timestamps, quantities) apply to these types too.
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
