using Trellis.Crds.Yaml;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Xunit;

namespace Trellis.Crds.Tests;

public sealed class ManifestTests
{
    // Not installed by default, each for a reason its file states.
    private static readonly string[] NotInstalledByDefault = ["rbac/operator-node-podcidrs.yaml"];

    public static IEnumerable<object[]> YamlFiles() =>
        ConfigFiles.AllYaml().Select(path => new object[] { Manifests.Relative(path) });

    [Theory]
    [MemberData(nameof(YamlFiles))]
    public void Every_file_parses_as_yaml_objects_of_a_known_kind(string file)
    {
        var documents = YamlDocuments.Load(Path.Combine(ConfigFiles.ConfigDirectory, file));
        Assert.NotEmpty(documents);
        if (file == "kustomization.yaml") return;

        foreach (var document in documents)
        {
            Assert.NotNull((string?)document["apiVersion"]);
            Assert.Contains((string?)document["kind"] ?? "", Manifests.ModelByKind.Keys);
            Assert.NotNull((string?)document["metadata"]?["name"]);
        }
    }

    /// <summary>A misspelled or misplaced field would be dropped by the typed model, so the round trip would differ.</summary>
    [Theory]
    [MemberData(nameof(YamlFiles))]
    public void Every_object_survives_a_round_trip_through_its_typed_model_unchanged(string file)
    {
        if (file == "kustomization.yaml") return;
        foreach (var manifest in Manifests.All().Where(m => m.File == file))
        {
            // A Trellis object is compared as the API server stores it: defaulted, as the C# type is on creation.
            var original = manifest.Kind == PodNetwork.KindName
                ? SchemaDefaulting.Apply(ConfigFiles.RootSchema(ConfigFiles.PodNetworkCrdPath), manifest.Json)
                : manifest.Json;
            var roundTrip = JsonNode.Parse(KubernetesJson.Serialize(Manifests.Typed(manifest)));
            Assert.True(JsonNode.DeepEquals(original, roundTrip),
                $"{manifest}: fields the {manifest.Kind} model does not know:\n{manifest.Json.ToJsonString()}\nvs\n{roundTrip?.ToJsonString()}");
        }
    }

    [Fact]
    public void The_kustomization_lists_existing_files_and_every_installable_one()
    {
        var kustomization = ConfigFiles.Json(Manifests.KustomizationPath);
        var resources = kustomization["resources"]!.AsArray().Select(r => (string)r!).ToList();

        Assert.Equal(resources.Count, resources.Distinct().Count());
        foreach (var resource in resources)
            Assert.True(File.Exists(Path.Combine(ConfigFiles.ConfigDirectory, resource)), $"kustomization.yaml lists {resource}, which does not exist");

        var installable = ConfigFiles.AllYaml().Select(Manifests.Relative)
            .Where(file => file != "kustomization.yaml" && !file.StartsWith("samples/", StringComparison.Ordinal))
            .Except(NotInstalledByDefault);
        Assert.Equal(installable.Order(StringComparer.Ordinal), resources.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Namespaced_objects_live_in_the_kustomization_namespace()
    {
        var ns = (string)ConfigFiles.Json(Manifests.KustomizationPath)["namespace"]!;
        Assert.Equal("trellis-system", ns);
        Assert.Equal(ns, Manifests.Single("Namespace", ns).Name);

        string[] clusterScoped = ["Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PodNetwork"];
        foreach (var manifest in Manifests.All())
            Assert.True(clusterScoped.Contains(manifest.Kind) ? manifest.Namespace is null : manifest.Namespace == ns,
                $"{manifest}: namespace '{manifest.Namespace}'");
    }

    [Fact]
    public void The_kustomization_names_exactly_the_images_the_workloads_use()
    {
        var images = ConfigFiles.Json(Manifests.KustomizationPath)["images"]!.AsArray()
            .Select(image => (string)image!["name"]!).Order(StringComparer.Ordinal);
        var used = Manifests.Installed().SelectMany(Containers).Select(container => container.Image).Distinct().Order(StringComparer.Ordinal);

        Assert.Equal(used, images);
    }

    [Fact]
    public void Workloads_run_as_service_accounts_that_are_defined_and_bound()
    {
        var installed = Manifests.Installed();
        var accounts = installed.Where(m => m.Kind == "ServiceAccount").Select(m => m.Name).ToHashSet();
        var workloads = installed.Where(m => m.Kind is "Deployment" or "DaemonSet").ToList();
        Assert.Equal(2, workloads.Count);

        foreach (var workload in workloads)
        {
            var account = (string?)workload.Json["spec"]!["template"]!["spec"]!["serviceAccountName"];
            Assert.Contains(account ?? "(none)", accounts);
        }

        foreach (var binding in installed.Where(m => m.Kind is "ClusterRoleBinding" or "RoleBinding"))
        {
            var roleRef = binding.Json["roleRef"]!;
            Assert.Contains(installed, m => m.Kind == (string)roleRef["kind"]! && m.Name == (string)roleRef["name"]!);
            foreach (var subject in binding.Json["subjects"]!.AsArray())
                Assert.Contains((string)subject!["name"]!, accounts);
        }
    }

    internal static IEnumerable<V1Container> Containers(Manifest manifest) => manifest.Kind switch
    {
        "Deployment" => manifest.As<V1Deployment>().Spec.Template.Spec.Containers,
        "DaemonSet" => manifest.As<V1DaemonSet>().Spec.Template.Spec.Containers,
        _ => [],
    };
}
