using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Trellis.ApiServer.OpenApi;
using Trellis.ApiServer.Storage;

namespace Trellis.ApiServer.Schema;

/// <summary>?fieldValidation=: what happens to fields the schema does not declare (and duplicate fields).</summary>
public enum FieldValidationMode { Ignore, Warn, Strict }

/// <summary>
/// Server-side field validation as kube-apiserver does it: Strict refuses a body with unknown or
/// duplicate fields (400, "strict decoding error: ..."), Warn (the default) accepts it with one
/// Warning header per field, Ignore says nothing. Unknown means not declared by the kind's schema:
/// the CRD's structural schema, ObjectMeta for metadata, and for built-ins the parts
/// <see cref="BuiltInSchemas"/> describes.
/// </summary>
public static class FieldValidation
{
    private static readonly ConcurrentDictionary<StorageKey, StructuralSchema> BuiltIn = new();
    private static readonly Lazy<HashSet<string>> MetadataFields = new(() => BuiltInSchemas.ObjectMeta()["properties"]!.AsObject().Select(p => p.Key).Append("selfLink").ToHashSet());

    /// <exception cref="ApiError">400 for a value other than Ignore, Warn and Strict.</exception>
    public static FieldValidationMode Parse(string? value) => value switch
    {
        null or "" or "Warn" => FieldValidationMode.Warn,
        "Ignore" => FieldValidationMode.Ignore,
        "Strict" => FieldValidationMode.Strict,
        _ => throw ApiError.BadRequest($"fieldValidation: invalid value \"{value}\": supported values are Ignore, Warn and Strict"),
    };

    /// <summary>The problems with <paramref name="obj"/> that the mode cares about: unknown fields, then <paramref name="duplicates"/>.</summary>
    /// <exception cref="ApiError">400 in Strict mode when there is any.</exception>
    public static void Check(ResourceType type, JsonObject obj, IReadOnlyList<string> duplicates, FieldValidationMode mode, List<string> warnings)
    {
        if (mode == FieldValidationMode.Ignore) return;
        var problems = duplicates.Select(d => $"duplicate field \"{d}\"").Concat(UnknownFields(type, obj).Select(u => $"unknown field \"{u}\"")).ToList();
        if (problems.Count == 0) return;
        if (mode == FieldValidationMode.Strict)
            throw ApiError.BadRequest($"{type.Kind} in version \"{type.Version}\" cannot be handled as a {type.Kind}: strict decoding error: {string.Join(", ", problems)}");
        warnings.AddRange(problems);
    }

    public static IReadOnlyList<string> UnknownFields(ResourceType type, JsonObject obj)
    {
        var unknown = new List<string>();
        if (obj["metadata"] is JsonObject metadata)
            unknown.AddRange(metadata.Where(p => !MetadataFields.Value.Contains(p.Key)).Select(p => $"metadata.{p.Key}"));
        var schema = type.Schema ?? BuiltIn.GetOrAdd(type.Key, _ => BuiltInSchema(type));
        foreach (var (property, value) in obj)
        {
            if (property is "apiVersion" or "kind" or "metadata") continue;
            if (!schema.Properties.TryGetValue(property, out var child))
            {
                if (!schema.PreserveUnknownFields) unknown.Add(property);
                continue;
            }
            unknown.AddRange(child.UnknownFields(value, property));
        }
        return unknown;
    }

    private static StructuralSchema BuiltInSchema(ResourceType type)
    {
        // A built-in this server does not describe accepts anything rather than calling every field unknown.
        return StructuralSchema.Parse(new JsonObject
        {
            ["type"] = "object",
            ["properties"] = BuiltInSchemas.Properties(type),
            ["x-kubernetes-preserve-unknown-fields"] = !BuiltInSchemas.Describes(type),
        });
    }

    /// <summary>The dotted paths of properties that appear twice in one JSON object (the last one wins, as in Go).</summary>
    public static IReadOnlyList<string> DuplicateFields(ReadOnlySpan<byte> json)
    {
        var duplicates = new List<string>();
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow });
        var stack = new Stack<(HashSet<string>? Names, string Path, int Index)>();
        string? property = null;
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        var path = stack.Count == 0 ? "" : Child(stack.Peek(), property);
                        stack.Push((reader.TokenType == JsonTokenType.StartObject ? [] : null, path, 0));
                        property = null;
                        break;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray:
                        stack.Pop();
                        if (stack.Count > 0 && stack.Peek().Names is null) stack.Push(Advance(stack.Pop()));
                        property = null;
                        break;
                    case JsonTokenType.PropertyName:
                        property = reader.GetString()!;
                        var top = stack.Peek();
                        if (!top.Names!.Add(property)) duplicates.Add(top.Path.Length == 0 ? property : $"{top.Path}.{property}");
                        break;
                    default:
                        if (stack.Count > 0 && stack.Peek().Names is null) stack.Push(Advance(stack.Pop()));
                        property = null;
                        break;
                }
            }
        }
        catch (JsonException) { }
        return duplicates;
    }

    private static (HashSet<string>? Names, string Path, int Index) Advance((HashSet<string>? Names, string Path, int Index) frame) => frame with { Index = frame.Index + 1 };

    private static string Child((HashSet<string>? Names, string Path, int Index) parent, string? property) =>
        parent.Names is null ? $"{parent.Path}[{parent.Index}]" : parent.Path.Length == 0 ? property! : $"{parent.Path}.{property}";
}
