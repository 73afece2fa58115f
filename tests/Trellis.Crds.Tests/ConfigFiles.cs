using Trellis.Crds.Yaml;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Trellis.Testing;

namespace Trellis.Crds.Tests;

/// <summary>Where the deployable manifests live, and the CRDs loaded from them.</summary>
public static class ConfigFiles
{
    public static string Root { get; } = RepositoryRoot.Find();
    public static string ConfigDirectory { get; } = Path.Combine(Root, "config");

    public static string PodNetworkCrdPath => Path.Combine(ConfigDirectory, "crd", "trellis.io_podnetworks.yaml");
    public static string NodeSubnetCrdPath => Path.Combine(ConfigDirectory, "crd", "trellis.io_nodesubnets.yaml");

    public static IEnumerable<string> AllYaml() =>
        Directory.EnumerateFiles(ConfigDirectory, "*.yaml", SearchOption.AllDirectories).Order(StringComparer.Ordinal);

    public static JsonObject Json(string path) => YamlDocuments.LoadSingle(path);

    public static T Typed<T>(JsonObject json) =>
        KubernetesJson.Deserialize<T>(json.ToJsonString());

    public static V1CustomResourceDefinition Crd(string path) => Typed<V1CustomResourceDefinition>(Json(path));

    /// <summary>The openAPIV3Schema of the CRD's only version, as JSON (the typed model leaves items and defaults untyped).</summary>
    public static JsonObject RootSchema(string crdPath)
    {
        var versions = Json(crdPath)["spec"]!["versions"]!.AsArray();
        return versions.Single()!["schema"]!["openAPIV3Schema"]!.AsObject();
    }

    /// <summary>Theory data: the name of every CRD, for <see cref="CrdUnderTest.Named"/>.</summary>
    public static IEnumerable<object[]> CrdNames() => CrdUnderTest.All.Select(crd => new object[] { crd.Plural });
}

/// <summary>One CRD file and the C# type it must agree with.</summary>
public sealed record CrdUnderTest(string Path, Type Type, Type ListType, Type SpecType, string Kind, string Plural)
{
    public static IReadOnlyList<CrdUnderTest> All { get; } =
    [
        new(ConfigFiles.PodNetworkCrdPath, typeof(PodNetwork), typeof(PodNetworkList), typeof(PodNetworkSpec), PodNetwork.KindName, PodNetwork.Plural),
        new(ConfigFiles.NodeSubnetCrdPath, typeof(NodeSubnet), typeof(NodeSubnetList), typeof(NodeSubnetSpec), NodeSubnet.KindName, NodeSubnet.Plural),
    ];

    public static CrdUnderTest Named(string plural) => All.Single(crd => crd.Plural == plural);

    public JsonObject RootSchema => ConfigFiles.RootSchema(Path);

    public V1CustomResourceDefinition Crd => ConfigFiles.Crd(Path);
}
