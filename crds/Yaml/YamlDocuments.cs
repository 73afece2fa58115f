using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Trellis.Crds.Yaml;

/// <summary>
/// Manifests (CRDs, PodNetworks) as kubectl sends them to the API server: each YAML document turned
/// into JSON, plain scalars typed by the YAML 1.2 core schema (so <c>24</c> is a number and <c>"24"</c>
/// a string). KubernetesClient's own YAML reader maps names by convention, not by our JSON names.
/// </summary>
public static partial class YamlDocuments
{
    public static IReadOnlyList<JsonObject> Load(string path)
    {
        using var reader = new StreamReader(path);
        return Parse(reader, path);
    }

    /// <param name="source">Names the text in errors (a file path or a resource name).</param>
    public static IReadOnlyList<JsonObject> Parse(TextReader text, string source)
    {
        var path = source;
        var stream = new YamlStream();
        try
        {
            stream.Load(text);
        }
        catch (YamlException e)
        {
            throw new InvalidDataException($"{path}: not valid YAML at {e.Start}: {e.Message}", e);
        }

        var documents = new List<JsonObject>();
        foreach (var document in stream.Documents)
        {
            if (document.RootNode is YamlScalarNode { Value: null or "" }) continue;
            documents.Add(ToJson(document.RootNode, path) as JsonObject
                ?? throw new InvalidDataException($"{path}: a document is not a mapping"));
        }
        return documents;
    }

    public static JsonObject LoadSingle(string path) => Single(Load(path), path);

    public static JsonObject ParseSingle(string text, string source) => Single(Parse(new StringReader(text), source), source);

    private static JsonObject Single(IReadOnlyList<JsonObject> documents, string source) =>
        documents.Count == 1
            ? documents[0]
            : throw new InvalidDataException($"{source}: expected one document, found {documents.Count}");

    private static JsonNode? ToJson(YamlNode node, string path) => node switch
    {
        YamlMappingNode mapping => ToObject(mapping, path),
        YamlSequenceNode sequence => new JsonArray(sequence.Children.Select(child => ToJson(child, path)).ToArray()),
        YamlScalarNode scalar => ToScalar(scalar),
        _ => throw new InvalidDataException($"{path}: unsupported YAML node at {node.Start}"),
    };

    private static JsonObject ToObject(YamlMappingNode mapping, string path)
    {
        var result = new JsonObject();
        foreach (var (key, value) in mapping.Children)
        {
            var name = (key as YamlScalarNode)?.Value
                ?? throw new InvalidDataException($"{path}: a mapping key at {key.Start} is not a scalar");
            if (result.ContainsKey(name))
                throw new InvalidDataException($"{path}: duplicate key '{name}' at {key.Start}");
            result[name] = ToJson(value, path);
        }
        return result;
    }

    private static JsonNode? ToScalar(YamlScalarNode scalar)
    {
        var text = scalar.Value ?? "";
        if (scalar.Style != ScalarStyle.Plain) return JsonValue.Create(text);
        if (text is "" or "~" or "null" or "Null" or "NULL") return null;
        if (text is "true" or "True" or "TRUE") return JsonValue.Create(true);
        if (text is "false" or "False" or "FALSE") return JsonValue.Create(false);
        if (IntegerPattern().IsMatch(text)) return JsonValue.Create(long.Parse(text, CultureInfo.InvariantCulture));
        if (FloatPattern().IsMatch(text)) return JsonValue.Create(double.Parse(text, CultureInfo.InvariantCulture));
        return JsonValue.Create(text);
    }

    [GeneratedRegex(@"^[-+]?[0-9]+$")]
    private static partial Regex IntegerPattern();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex FloatPattern();
}
