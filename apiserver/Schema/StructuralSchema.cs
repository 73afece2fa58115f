using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Trellis.ApiServer.Schema;

/// <summary>
/// A CRD's structural schema (openAPIV3Schema) and what the real API server does with it on
/// every write: prune unknown fields, apply defaults, then validate types, required, enum,
/// bounds, lengths, item counts and patterns. x-kubernetes-validations (CEL) are the
/// <see cref="CelValidator"/>'s; format and the embedded-resource extension are not checked.
/// </summary>
public sealed class StructuralSchema
{
    public string? Type { get; private init; }
    public IReadOnlyDictionary<string, StructuralSchema> Properties { get; private init; } = new Dictionary<string, StructuralSchema>();
    public StructuralSchema? Items { get; private init; }
    /// <summary>A map's value schema (additionalProperties: {...}).</summary>
    public StructuralSchema? AdditionalProperties { get; private init; }
    public IReadOnlySet<string> Required { get; private init; } = new HashSet<string>();
    public IReadOnlyList<JsonNode?> Enum { get; private init; } = [];
    public double? Minimum { get; private init; }
    public double? Maximum { get; private init; }
    public bool ExclusiveMinimum { get; private init; }
    public bool ExclusiveMaximum { get; private init; }
    public long? MinLength { get; private init; }
    public long? MaxLength { get; private init; }
    public long? MinItems { get; private init; }
    public long? MaxItems { get; private init; }
    public long? MinProperties { get; private init; }
    public long? MaxProperties { get; private init; }
    public Regex? Pattern { get; private init; }
    public JsonNode? Default { get; private init; }
    public bool Nullable { get; private init; }
    public bool PreserveUnknownFields { get; private init; }
    public bool IntOrString { get; private init; }

    /// <summary>x-kubernetes-list-type: "set" lists must not repeat an item.</summary>
    public string? ListType { get; private init; }

    /// <summary>Reads an openAPIV3Schema object; <paramref name="where"/> names it in errors (e.g. the CRD and version).</summary>
    public static StructuralSchema Parse(JsonObject schema, string where = "openAPIV3Schema")
    {
        Regex? pattern = null;
        if (schema["pattern"]?.GetValue<string>() is { } text)
        {
            try { pattern = new Regex(text, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)); }
            catch (ArgumentException e) { throw new FormatException($"{where}.pattern \"{text}\" is not a valid regular expression: {e.Message}", e); }
        }
        return new StructuralSchema
        {
            Type = schema["type"]?.GetValue<string>(),
            Properties = schema["properties"] is JsonObject properties
                ? properties.ToDictionary(p => p.Key, p => Parse(p.Value as JsonObject ?? throw new FormatException($"{where}.properties.{p.Key} is not an object"), $"{where}.properties.{p.Key}"))
                : new Dictionary<string, StructuralSchema>(),
            Items = schema["items"] is JsonObject items ? Parse(items, where + ".items") : null,
            AdditionalProperties = schema["additionalProperties"] is JsonObject additional ? Parse(additional, where + ".additionalProperties") : null,
            Required = schema["required"] is JsonArray required ? required.Select(r => r!.GetValue<string>()).ToHashSet() : new HashSet<string>(),
            Enum = schema["enum"] is JsonArray values ? values.Select(v => v?.DeepClone()).ToArray() : [],
            Minimum = Number(schema["minimum"]),
            Maximum = Number(schema["maximum"]),
            ExclusiveMinimum = schema["exclusiveMinimum"]?.GetValue<bool>() ?? false,
            ExclusiveMaximum = schema["exclusiveMaximum"]?.GetValue<bool>() ?? false,
            MinLength = Integer(schema["minLength"]),
            MaxLength = Integer(schema["maxLength"]),
            MinItems = Integer(schema["minItems"]),
            MaxItems = Integer(schema["maxItems"]),
            MinProperties = Integer(schema["minProperties"]),
            MaxProperties = Integer(schema["maxProperties"]),
            Pattern = pattern,
            Default = schema["default"]?.DeepClone(),
            Nullable = schema["nullable"]?.GetValue<bool>() ?? false,
            PreserveUnknownFields = schema["x-kubernetes-preserve-unknown-fields"]?.GetValue<bool>() ?? false,
            IntOrString = schema["x-kubernetes-int-or-string"]?.GetValue<bool>() ?? false,
            ListType = schema["x-kubernetes-list-type"]?.GetValue<string>(),
        };
    }

    private static double? Number(JsonNode? node) => node is null ? null : NumberOf(node);
    private static long? Integer(JsonNode? node) => node is null ? null : (long)NumberOf(node);

    /// <summary>A JSON number whatever CLR type backs the node (parsed text, or an int set by code).</summary>
    private static double NumberOf(JsonNode node) => double.Parse(node.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);

    /// <summary>
    /// Prunes, defaults and validates a whole object in place. apiVersion, kind and metadata are
    /// the server's business and are neither pruned nor checked here.
    /// </summary>
    public IReadOnlyList<StatusCause> Admit(JsonObject obj)
    {
        var causes = new List<StatusCause>();
        foreach (var property in obj.Select(p => p.Key).ToArray())
        {
            if (property is "apiVersion" or "kind" or "metadata") continue;
            if (!Properties.TryGetValue(property, out var schema))
            {
                if (!PreserveUnknownFields) obj.Remove(property);
                continue;
            }
            var value = obj[property];
            if (value is null && !schema.Nullable) { obj.Remove(property); continue; }
            schema.Normalize(value);
        }
        foreach (var (property, schema) in Properties)
            if (property is not ("apiVersion" or "kind" or "metadata") && !obj.ContainsKey(property) && schema.Default is not null)
                obj[property] = schema.Normalize(schema.Default.DeepClone());
        foreach (var (property, schema) in Properties)
        {
            if (property is "apiVersion" or "kind" or "metadata") continue;
            if (obj.TryGetPropertyValue(property, out var value)) schema.Validate(value, property, causes);
            else if (Required.Contains(property)) causes.Add(new StatusCause("FieldValueRequired", "Required value", property));
        }
        return causes;
    }

    /// <summary>A copy of <paramref name="value"/> pruned and defaulted as the server would store it.</summary>
    public JsonNode? Defaulted(JsonNode? value) => Normalize(value?.DeepClone());

    /// <summary>Why the server would refuse <paramref name="value"/>, each cause at its path below <paramref name="path"/>.</summary>
    public IReadOnlyList<StatusCause> Check(JsonNode? value, string path)
    {
        var causes = new List<StatusCause>();
        Validate(value, path, causes);
        return causes;
    }

    /// <summary>Paths of the fields this schema does not know: the server prunes them without a word, which hides typos.</summary>
    public IReadOnlyList<string> UnknownFields(JsonNode? value, string path)
    {
        var unknown = new List<string>();
        CollectUnknown(value, path, unknown);
        return unknown;
    }

    private void CollectUnknown(JsonNode? value, string path, List<string> unknown)
    {
        switch (value)
        {
            case JsonObject obj:
                foreach (var (property, child) in obj)
                {
                    var schema = Properties.GetValueOrDefault(property) ?? AdditionalProperties;
                    if (schema is not null) schema.CollectUnknown(child, $"{path}.{property}", unknown);
                    else if (!PreserveUnknownFields) unknown.Add($"{path}.{property}");
                }
                break;
            case JsonArray array when Items is not null:
                for (var i = 0; i < array.Count; i++) Items.CollectUnknown(array[i], $"{path}[{i}]", unknown);
                break;
        }
    }

    /// <summary>Prunes unknown fields and fills defaults below this node, in place.</summary>
    private JsonNode? Normalize(JsonNode? value)
    {
        switch (value)
        {
            case JsonObject obj when Properties.Count > 0 || AdditionalProperties is not null || !PreserveUnknownFields:
                foreach (var property in obj.Select(p => p.Key).ToArray())
                {
                    var schema = Properties.GetValueOrDefault(property) ?? AdditionalProperties;
                    if (schema is null)
                    {
                        if (!PreserveUnknownFields) obj.Remove(property);
                        continue;
                    }
                    var child = obj[property];
                    if (child is null && !schema.Nullable) { obj.Remove(property); continue; }
                    schema.Normalize(child);
                }
                foreach (var (property, schema) in Properties)
                    if (!obj.ContainsKey(property) && schema.Default is not null)
                        obj[property] = schema.Normalize(schema.Default.DeepClone());
                return obj;
            case JsonArray array when Items is not null:
                foreach (var item in array) Items.Normalize(item);
                return array;
            default:
                return value;
        }
    }

    private void Validate(JsonNode? value, string path, List<StatusCause> causes)
    {
        if (value is null)
        {
            if (!Nullable) causes.Add(Invalid(path, "null", $"{path} in body must be of type {Type ?? "object"}: \"null\""));
            return;
        }
        if (!TypeMatches(value))
        {
            causes.Add(Invalid(path, Render(value), $"{path} in body must be of type {Type}: \"{KindOf(value)}\""));
            return;
        }
        if (Enum.Count > 0 && !Enum.Any(e => JsonNode.DeepEquals(e, value)))
            causes.Add(new StatusCause("FieldValueNotSupported",
                $"Unsupported value: {Render(value)}: supported values: {string.Join(", ", Enum.Select(Render))}", path));

        switch (value)
        {
            case JsonObject obj:
                foreach (var (property, child) in obj)
                {
                    var schema = Properties.GetValueOrDefault(property) ?? AdditionalProperties;
                    schema?.Validate(child, $"{path}.{property}", causes);
                }
                foreach (var required in Required)
                    if (!obj.ContainsKey(required)) causes.Add(new StatusCause("FieldValueRequired", "Required value", $"{path}.{required}"));
                if (MinProperties is { } minProperties && obj.Count < minProperties)
                    causes.Add(Invalid(path, obj.Count.ToString(CultureInfo.InvariantCulture), $"{path} in body should have at least {minProperties} properties"));
                if (MaxProperties is { } maxProperties && obj.Count > maxProperties)
                    causes.Add(new StatusCause("FieldValueTooMany", $"Too many: {obj.Count}: must have at most {maxProperties} items", path));
                break;
            case JsonArray array:
                if (MinItems is { } minItems && array.Count < minItems)
                    causes.Add(Invalid(path, array.Count.ToString(CultureInfo.InvariantCulture), $"{path} in body should have at least {minItems} items"));
                if (MaxItems is { } maxItems && array.Count > maxItems)
                    causes.Add(new StatusCause("FieldValueTooMany", $"Too many: {array.Count}: must have at most {maxItems} items", path));
                if (ListType == "set")
                    foreach (var repeated in array.GroupBy(Render).Where(g => g.Count() > 1))
                        causes.Add(new StatusCause("FieldValueDuplicate", $"Duplicate value: {repeated.Key}", path));
                if (Items is not null)
                    for (var i = 0; i < array.Count; i++) Items.Validate(array[i], $"{path}[{i}]", causes);
                break;
            case JsonValue scalar when scalar.GetValueKind() == JsonValueKind.Number:
                var number = NumberOf(scalar);
                if (Minimum is { } minimum && (ExclusiveMinimum ? number <= minimum : number < minimum))
                    causes.Add(Invalid(path, Render(value), $"{path} in body should be greater than {(ExclusiveMinimum ? "" : "or equal to ")}{Render(JsonValue.Create(minimum))}"));
                if (Maximum is { } maximum && (ExclusiveMaximum ? number >= maximum : number > maximum))
                    causes.Add(Invalid(path, Render(value), $"{path} in body should be less than {(ExclusiveMaximum ? "" : "or equal to ")}{Render(JsonValue.Create(maximum))}"));
                break;
            case JsonValue scalar when scalar.GetValueKind() == JsonValueKind.String:
                var text = scalar.GetValue<string>();
                if (MinLength is { } minLength && text.Length < minLength)
                    causes.Add(Invalid(path, Render(value), $"{path} in body should be at least {minLength} chars long"));
                if (MaxLength is { } maxLength && text.Length > maxLength)
                    causes.Add(new StatusCause("FieldValueTooLong", $"Too long: may not be more than {maxLength} bytes", path));
                if (Pattern is not null && !Pattern.IsMatch(text))
                    causes.Add(Invalid(path, Render(value), $"{path} in body should match '{Pattern}'"));
                break;
        }
    }

    private bool TypeMatches(JsonNode value)
    {
        var kind = value.GetValueKind();
        if (IntOrString) return kind == JsonValueKind.String || (kind == JsonValueKind.Number && IsInteger(value));
        return Type switch
        {
            null => true,
            "object" => kind == JsonValueKind.Object,
            "array" => kind == JsonValueKind.Array,
            "string" => kind == JsonValueKind.String,
            "boolean" => kind is JsonValueKind.True or JsonValueKind.False,
            "number" => kind == JsonValueKind.Number,
            "integer" => kind == JsonValueKind.Number && IsInteger(value),
            _ => true,
        };
    }

    private static bool IsInteger(JsonNode value) => double.IsInteger(NumberOf(value));

    private static string KindOf(JsonNode value) => value.GetValueKind() switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => IsInteger(value) ? "integer" : "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => "null",
    };

    private static string Render(JsonNode? value) => value?.ToJsonString() ?? "null";

    private static StatusCause Invalid(string path, string value, string detail) =>
        new("FieldValueInvalid", $"Invalid value: {value}: {detail}", path);
}
