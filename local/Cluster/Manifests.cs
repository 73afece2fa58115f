using System.Reflection;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Trellis.Crds;
using Trellis.Crds.Yaml;

namespace Trellis.Local.Cluster;

/// <summary>The CRDs and the sample PodNetwork from config/, embedded so trellis-local runs from anywhere.</summary>
public static class Manifests
{
    public static async Task InstallCrdsAsync(IKubernetes client, CancellationToken ct)
    {
        var assembly = Assembly.GetExecutingAssembly();
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith("crd/", StringComparison.Ordinal)).Order())
        {
            var crd = KubernetesJson.Deserialize<V1CustomResourceDefinition>(YamlDocuments.ParseSingle(ReadResource(name), name).ToJsonString());
            await client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(crd, cancellationToken: ct);
        }
    }

    /// <summary>The PodNetwork from <paramref name="file"/>, or the sample (10.244.0.0/16, /24 blocks).</summary>
    public static PodNetwork LoadPodNetwork(string? file)
    {
        var json = file is null ? YamlDocuments.ParseSingle(ReadResource("samples/podnetwork.yaml"), "the sample") : LoadFile(file);
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

    private static JsonObject LoadFile(string file)
    {
        try
        {
            return YamlDocuments.LoadSingle(file);
        }
        catch (InvalidDataException e)
        {
            throw new LocalClusterException(e.Message);
        }
    }
}
