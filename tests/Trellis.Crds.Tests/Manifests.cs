using Trellis.Crds.Yaml;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace Trellis.Crds.Tests;

/// <summary>A Kubernetes object found in a file under config/.</summary>
public sealed record Manifest(string File, JsonObject Json)
{
    public string Kind => (string)Json["kind"]!;
    public string Name => (string)Json["metadata"]!["name"]!;
    public string? Namespace => (string?)Json["metadata"]!["namespace"];
    public T As<T>() => ConfigFiles.Typed<T>(Json);
    public override string ToString() => $"{Kind}/{Name} ({File})";
}

/// <summary>Every object under config/, and the typed model each kind is read with.</summary>
public static class Manifests
{
    public static readonly IReadOnlyDictionary<string, Type> ModelByKind = new Dictionary<string, Type>
    {
        ["Namespace"] = typeof(V1Namespace),
        ["ServiceAccount"] = typeof(V1ServiceAccount),
        ["ClusterRole"] = typeof(V1ClusterRole),
        ["ClusterRoleBinding"] = typeof(V1ClusterRoleBinding),
        ["Role"] = typeof(V1Role),
        ["RoleBinding"] = typeof(V1RoleBinding),
        ["Deployment"] = typeof(V1Deployment),
        ["DaemonSet"] = typeof(V1DaemonSet),
        ["PodDisruptionBudget"] = typeof(V1PodDisruptionBudget),
        ["CustomResourceDefinition"] = typeof(V1CustomResourceDefinition),
        ["PodNetwork"] = typeof(PodNetwork),
    };

    public static string KustomizationPath => Path.Combine(ConfigFiles.ConfigDirectory, "kustomization.yaml");

    public static IReadOnlyList<Manifest> All() =>
        ConfigFiles.AllYaml()
            .Where(path => path != KustomizationPath)
            .SelectMany(path => YamlDocuments.Load(path).Select(json => new Manifest(Relative(path), json)))
            .ToList();

    public static Manifest Single(string kind, string name) => All().Single(m => m.Kind == kind && m.Name == name);

    /// <summary>Objects `kubectl apply -k config/` installs.</summary>
    public static IReadOnlyList<Manifest> Installed()
    {
        var kustomization = ConfigFiles.Json(KustomizationPath);
        var resources = kustomization["resources"]!.AsArray().Select(r => (string)r!).ToHashSet();
        return All().Where(m => resources.Contains(m.File)).ToList();
    }

    public static object Typed(Manifest manifest) =>
        DeserializeString.MakeGenericMethod(ModelByKind[manifest.Kind])
            .Invoke(null, [manifest.Json.ToJsonString(), null])!;

    private static readonly System.Reflection.MethodInfo DeserializeString = typeof(KubernetesJson).GetMethods()
        .Single(method => method.Name == nameof(KubernetesJson.Deserialize) && method.IsGenericMethodDefinition &&
                          method.GetParameters() is [{ ParameterType: var first }, _] && first == typeof(string));

    public static string Relative(string path) =>
        Path.GetRelativePath(ConfigFiles.ConfigDirectory, path).Replace('\\', '/');
}
