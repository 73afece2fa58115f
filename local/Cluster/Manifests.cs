using System.Reflection;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Trellis.Crds;
using YamlDotNet.RepresentationModel;

namespace Trellis.Local.Cluster;

/// <summary>The CRDs and the sample PodNetwork from config/, embedded so trellis-local runs from anywhere.</summary>
public static class Manifests
{
    public static async Task InstallCrdsAsync(IKubernetes client, CancellationToken ct)
    {
        var assembly = Assembly.GetExecutingAssembly();
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith("crd/", StringComparison.Ordinal)).Order())
        {
            var crd = KubernetesJson.Deserialize<V1CustomResourceDefinition>(YamlToJson(ReadResource(name)).ToJsonString());
            await client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(crd, cancellationToken: ct);
        }
    }

    /// <summary>The PodNetwork from <paramref name="file"/>, or the sample (10.244.0.0/16, /24 blocks).</summary>
    public static PodNetwork LoadPodNetwork(string? file)
    {
        var text = file is null ? ReadResource("samples/podnetwork.yaml") : File.ReadAllText(file);
        var json = YamlToJson(text);
        if (json["kind"]?.GetValue<string>() != PodNetwork.KindName)
            throw new LocalClusterException($"{file ?? "the sample"} is not a PodNetwork (kind: {json["kind"]})");
        return KubernetesJson.Deserialize<PodNetwork>(json.ToJsonString());
    }

    private static string ReadResource(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"resource {name} is not embedded in trellis-local");
        return new StreamReader(stream).ReadToEnd();
    }

    /// <summary>The first YAML document as JSON; plain scalars become numbers and booleans where they read as such.</summary>
    public static JsonNode YamlToJson(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        if (stream.Documents.Count == 0) throw new LocalClusterException("the YAML holds no document");
        return Convert(stream.Documents[0].RootNode) ?? throw new LocalClusterException("the YAML document is empty");
    }

    private static JsonNode? Convert(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(kv => KeyValuePair.Create(((YamlScalarNode)kv.Key).Value!, Convert(kv.Value)))),
        YamlSequenceNode list => new JsonArray(list.Children.Select(Convert).ToArray()),
        YamlScalarNode scalar when scalar.Style is YamlDotNet.Core.ScalarStyle.Plain => Plain(scalar.Value),
        YamlScalarNode scalar => JsonValue.Create(scalar.Value),
        _ => null,
    };

    private static JsonNode? Plain(string? value) => value switch
    {
        null or "" or "~" or "null" => null,
        "true" => JsonValue.Create(true),
        "false" => JsonValue.Create(false),
        _ when long.TryParse(value, out var number) => JsonValue.Create(number),
        _ when double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var real) => JsonValue.Create(real),
        _ => JsonValue.Create(value),
    };
}
