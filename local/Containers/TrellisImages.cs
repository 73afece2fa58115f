using System.Reflection;
using Trellis.Crds.Yaml;

namespace Trellis.Local.Containers;

/// <summary>
/// The image names config/kustomization.yaml's `images:` entries give (embedded): the names
/// scripts/images.sh builds and tags, so the local cluster runs what `kubectl apply -k config/` would.
/// </summary>
public static class TrellisImages
{
    public const string Operator = "trellis-operator";
    public const string Agent = "trellis-agent";

    private static readonly Lazy<IReadOnlyDictionary<string, string>> s_images = new(Load);

    /// <summary>newName:newTag of the kustomization's entry for <paramref name="name"/>.</summary>
    public static string Reference(string name) =>
        s_images.Value.TryGetValue(name, out var reference) ? reference
            : throw new InvalidOperationException($"config/kustomization.yaml has no images: entry named {name}");

    private static IReadOnlyDictionary<string, string> Load()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("kustomization.yaml")
            ?? throw new InvalidOperationException("config/kustomization.yaml is not embedded in trellis-local");
        var kustomization = YamlDocuments.Parse(new StreamReader(stream), "config/kustomization.yaml").Single();
        return (kustomization["images"]?.AsArray() ?? [])
            .Select(entry => entry!.AsObject())
            .ToDictionary(entry => (string)entry["name"]!, entry => $"{(string)entry["newName"]!}:{(string)entry["newTag"]!}");
    }
}
