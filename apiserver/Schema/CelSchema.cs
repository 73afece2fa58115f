using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Trellis.ApiServer.Cel;

namespace Trellis.ApiServer.Schema;

/// <summary>
/// How Kubernetes shows a structural schema and its data to CEL: objects with properties become
/// object types whose fields are the (escaped) property names, additionalProperties maps, arrays
/// lists (set and map lists compare as sets), integer int, number double, string string (bytes,
/// duration and timestamp by format), int-or-string and schemaless objects dyn. At the root, and in
/// embedded resources, only apiVersion, kind, metadata.name and metadata.generateName are visible.
/// </summary>
public static partial class CelSchema
{
    private static readonly HashSet<string> Reserved =
    [
        "true", "false", "null", "in", "as", "break", "const", "continue", "else", "for", "function", "if", "import", "let",
        "loop", "package", "namespace", "return", "var", "void", "while",
    ];

    /// <summary>The CEL field name of a property (Kubernetes' escaping), or null when CEL cannot name it.</summary>
    public static string? Escape(string property)
    {
        if (Reserved.Contains(property)) return $"__{property}__";
        if (!EscapableName().IsMatch(property)) return null;
        return property.Replace("__", "__underscores__").Replace(".", "__dot__").Replace("-", "__dash__").Replace("/", "__slash__");
    }

    [GeneratedRegex("^[a-zA-Z_.\\-/][a-zA-Z0-9_.\\-/]*$")]
    private static partial Regex EscapableName();

    public static CelType TypeOf(JsonObject schema, string name, bool resourceRoot)
    {
        if (schema["x-kubernetes-int-or-string"]?.GetValue<bool>() == true) return CelType.Dyn;
        var type = schema["type"]?.GetValue<string>();
        var embedded = resourceRoot || schema["x-kubernetes-embedded-resource"]?.GetValue<bool>() == true;
        switch (type)
        {
            case "object":
                if (schema["additionalProperties"] is JsonObject additional)
                    return CelType.MapOf(CelType.String, TypeOf(additional, name + ".@", false));
                var fields = new Dictionary<string, CelType>();
                if (schema["properties"] is JsonObject properties)
                    foreach (var (property, child) in properties)
                    {
                        if (embedded && property is "apiVersion" or "kind" or "metadata") continue;
                        if (Escape(property) is { } field && child is JsonObject childSchema) fields[field] = TypeOf(childSchema, $"{name}.{property}", false);
                    }
                if (embedded)
                {
                    fields["apiVersion"] = CelType.String;
                    fields["kind"] = CelType.String;
                    fields["metadata"] = CelType.ObjectOf($"{name}.metadata", new Dictionary<string, CelType> { ["name"] = CelType.String, ["generateName"] = CelType.String });
                }
                if (fields.Count == 0 && schema["x-kubernetes-preserve-unknown-fields"]?.GetValue<bool>() == true) return CelType.Dyn;
                return CelType.ObjectOf(name, fields);
            case "array":
                return CelType.ListOf(schema["items"] is JsonObject items ? TypeOf(items, name + ".@idx", false) : CelType.Dyn);
            case "integer": return CelType.Int;
            case "number": return CelType.Double;
            case "boolean": return CelType.Bool;
            case "string":
                return schema["format"]?.GetValue<string>() switch
                {
                    "byte" => CelType.Bytes,
                    "duration" => CelType.Duration,
                    "date" or "date-time" => CelType.Timestamp,
                    _ => CelType.String,
                };
            default:
                return schema["x-kubernetes-preserve-unknown-fields"]?.GetValue<bool>() == true ? CelType.Dyn : CelType.Dyn;
        }
    }

    /// <summary>The CEL value of <paramref name="value"/> under <paramref name="schema"/>.</summary>
    public static object? ValueOf(JsonNode? value, JsonObject schema, string name, bool resourceRoot)
    {
        if (value is null) return CelNull.Value;
        var embedded = resourceRoot || schema["x-kubernetes-embedded-resource"]?.GetValue<bool>() == true;
        switch (value)
        {
            case JsonObject obj when schema["additionalProperties"] is JsonObject additional:
                return new CelMapValue(obj.Select(p => KeyValuePair.Create((object)p.Key, ValueOf(p.Value, additional, name + ".@", false))).ToArray());
            case JsonObject obj when schema["type"]?.GetValue<string>() == "object" && (schema["properties"] is JsonObject || embedded):
                var fields = new Dictionary<string, object?>();
                var properties = schema["properties"] as JsonObject ?? [];
                foreach (var (property, child) in obj)
                {
                    if (embedded && property is "apiVersion" or "kind" or "metadata") continue;
                    if (properties[property] is JsonObject childSchema && Escape(property) is { } field)
                        fields[field] = ValueOf(child, childSchema, $"{name}.{property}", false);
                }
                if (embedded)
                {
                    if (obj["apiVersion"] is JsonValue apiVersion) fields["apiVersion"] = apiVersion.GetValue<string>();
                    if (obj["kind"] is JsonValue kind) fields["kind"] = kind.GetValue<string>();
                    if (obj["metadata"] is JsonObject metadata)
                    {
                        var meta = new Dictionary<string, object?>();
                        if (metadata["name"] is JsonValue metaName) meta["name"] = metaName.GetValue<string>();
                        if (metadata["generateName"] is JsonValue generateName) meta["generateName"] = generateName.GetValue<string>();
                        fields["metadata"] = new CelObjectValue($"{name}.metadata", meta);
                    }
                }
                return new CelObjectValue(name, fields);
            case JsonObject obj:
                return new CelMapValue(obj.Select(p => KeyValuePair.Create((object)p.Key, Untyped(p.Value))).ToArray());
            case JsonArray array:
                var itemSchema = schema["items"] as JsonObject;
                var listType = schema["x-kubernetes-list-type"]?.GetValue<string>();
                return new CelListValue(array.Select(i => itemSchema is null ? Untyped(i) : ValueOf(i, itemSchema, name + ".@idx", false)).ToArray(),
                    listType is "set" or "map" ? CelListEquality.Set : CelListEquality.Ordered);
            case JsonValue scalar:
                return Scalar(scalar, schema);
            default:
                return CelNull.Value;
        }
    }

    private static object? Scalar(JsonValue scalar, JsonObject schema)
    {
        switch (scalar.GetValueKind())
        {
            case JsonValueKind.True: return true;
            case JsonValueKind.False: return false;
            case JsonValueKind.Number:
                var text = scalar.ToJsonString();
                if (schema["type"]?.GetValue<string>() == "number") return double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
                if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer)) return integer;
                return double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture) is var d && double.IsInteger(d) && d >= long.MinValue && d < 9.2233720368547758E18 ? (long)d : d;
            case JsonValueKind.String:
                var s = scalar.GetValue<string>();
                if (schema["x-kubernetes-int-or-string"]?.GetValue<bool>() == true) return s;
                return schema["format"]?.GetValue<string>() switch
                {
                    "byte" => TryBase64(s),
                    "duration" => CelLibrary.ParseDuration(s),
                    "date-time" => DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out var t) ? t : s,
                    "date" => DateTimeOffset.TryParseExact(s, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var d2) ? d2 : s,
                    _ => s,
                };
            default: return CelNull.Value;
        }
    }

    private static object TryBase64(string s)
    {
        try { return Convert.FromBase64String(s); }
        catch (FormatException) { return s; }
    }

    /// <summary>Data under x-kubernetes-preserve-unknown-fields without a schema: dyn values.</summary>
    private static object? Untyped(JsonNode? value) => value switch
    {
        null => CelNull.Value,
        JsonObject obj => new CelMapValue(obj.Select(p => KeyValuePair.Create((object)p.Key, Untyped(p.Value))).ToArray()),
        JsonArray array => new CelListValue(array.Select(Untyped).ToArray()),
        JsonValue scalar => scalar.GetValueKind() switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.String => scalar.GetValue<string>(),
            JsonValueKind.Number => long.TryParse(scalar.ToJsonString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) ? l : double.Parse(scalar.ToJsonString(), CultureInfo.InvariantCulture),
            _ => CelNull.Value,
        },
        _ => CelNull.Value,
    };
}
