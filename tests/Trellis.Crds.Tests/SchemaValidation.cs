using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Trellis.Crds.Tests;

/// <summary>
/// The OpenAPI v3 checks the API server makes before CEL: types, unknown fields (which it would
/// silently prune), required, enum, bounds, lengths and patterns. CEL rules are not evaluated here.
/// </summary>
public static class SchemaValidation
{
    public static IReadOnlyList<string> Errors(JsonObject schema, JsonNode? value)
    {
        var errors = new List<string>();
        Validate(schema, value, "", errors);
        return errors;
    }

    private static void Validate(JsonObject schema, JsonNode? value, string path, List<string> errors)
    {
        var at = path.Length == 0 ? "(root)" : path;
        if (value is null)
        {
            errors.Add($"{at}: null is not allowed");
            return;
        }

        var type = (string?)schema["type"];
        var kind = value.GetValueKind();
        var typeMatches = type switch
        {
            "object" => kind == JsonValueKind.Object,
            "array" => kind == JsonValueKind.Array,
            "string" => kind == JsonValueKind.String,
            "boolean" => kind is JsonValueKind.True or JsonValueKind.False,
            "integer" => kind == JsonValueKind.Number && IsInteger(value),
            "number" => kind == JsonValueKind.Number,
            _ => true,
        };
        if (!typeMatches)
        {
            errors.Add($"{at}: expected {type}, found {kind}");
            return;
        }

        if (schema["enum"] is JsonArray allowed && !allowed.Any(option => JsonNode.DeepEquals(option, value)))
            errors.Add($"{at}: {value.ToJsonString()} is not one of {allowed.ToJsonString()}");

        switch (value)
        {
            case JsonObject obj:
                ValidateObject(schema, obj, path, at, errors);
                break;
            case JsonArray array:
                if (schema["minItems"] is { } minItems && array.Count < (long)minItems)
                    errors.Add($"{at}: {array.Count} items, at least {minItems} required");
                if (schema["maxItems"] is { } maxItems && array.Count > (long)maxItems)
                    errors.Add($"{at}: {array.Count} items, at most {maxItems} allowed");
                if ((string?)schema["x-kubernetes-list-type"] == "set" &&
                    array.Select(item => item!.ToJsonString()).Distinct().Count() != array.Count)
                    errors.Add($"{at}: a set holds duplicate items");
                if (schema["items"] is JsonObject itemSchema)
                    for (var i = 0; i < array.Count; i++)
                        Validate(itemSchema, array[i], $"{path}[{i}]", errors);
                break;
            case JsonValue when kind == JsonValueKind.String:
                var text = (string)value!;
                if (schema["minLength"] is { } minLength && text.Length < (long)minLength)
                    errors.Add($"{at}: '{text}' is shorter than {minLength}");
                if (schema["maxLength"] is { } maxLength && text.Length > (long)maxLength)
                    errors.Add($"{at}: '{text}' is longer than {maxLength}");
                if (schema["pattern"] is { } pattern && !Regex.IsMatch(text, (string)pattern!))
                    errors.Add($"{at}: '{text}' does not match {pattern}");
                break;
            case JsonValue when kind == JsonValueKind.Number:
                var number = Number(value);
                if (schema["minimum"] is { } minimum && number < Number(minimum))
                    errors.Add($"{at}: {number.ToString(CultureInfo.InvariantCulture)} is below the minimum {minimum}");
                if (schema["maximum"] is { } maximum && number > Number(maximum))
                    errors.Add($"{at}: {number.ToString(CultureInfo.InvariantCulture)} is above the maximum {maximum}");
                break;
        }
    }

    private static void ValidateObject(JsonObject schema, JsonObject obj, string path, string at, List<string> errors)
    {
        foreach (var required in schema["required"]?.AsArray() ?? [])
            if (!obj.ContainsKey((string)required!))
                errors.Add($"{at}: '{required}' is required");

        var properties = schema["properties"] as JsonObject;
        var valueSchema = schema["additionalProperties"] as JsonObject;
        var preservesUnknown = (bool?)schema["x-kubernetes-preserve-unknown-fields"] == true;
        foreach (var (name, child) in obj)
        {
            if (properties?[name] is JsonObject propertySchema) Validate(propertySchema, child, $"{path}.{name}", errors);
            else if (valueSchema is not null) Validate(valueSchema, child, $"{path}.{name}", errors);
            else if (properties is not null && !preservesUnknown) errors.Add($"{path}.{name}: unknown field (the API server would drop it)");
        }
    }

    /// <summary>A JSON number's value, whichever CLR type the node was built from.</summary>
    public static double Number(JsonNode value) =>
        double.Parse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);

    private static bool IsInteger(JsonNode value) => Math.Floor(Number(value)) == Number(value);
}
