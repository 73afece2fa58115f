using System.Text.Json.Nodes;

namespace Trellis.Crds.Tests;

/// <summary>
/// Structural-schema defaulting as the API server does it: a missing property with a default gets a
/// copy of that default, then defaulting continues inside it, so <c>default: {}</c> fills nested defaults.
/// </summary>
public static class SchemaDefaulting
{
    /// <summary>A defaulted copy of <paramref name="value"/>; the argument is left as it was.</summary>
    public static JsonNode? Apply(JsonObject schema, JsonNode? value)
    {
        var copy = value?.DeepClone();
        ApplyInPlace(schema, copy);
        return copy;
    }

    private static void ApplyInPlace(JsonObject schema, JsonNode? value)
    {
        switch (value)
        {
            case JsonObject obj:
                if (schema["properties"] is JsonObject properties)
                {
                    foreach (var (name, propertySchema) in properties)
                    {
                        if (!obj.ContainsKey(name) && propertySchema!["default"] is { } defaultValue)
                            obj[name] = defaultValue.DeepClone();
                        if (obj[name] is { } child) ApplyInPlace(propertySchema!.AsObject(), child);
                    }
                }
                if (schema["additionalProperties"] is JsonObject valueSchema)
                    foreach (var (_, child) in obj)
                        ApplyInPlace(valueSchema, child);
                break;
            case JsonArray array when schema["items"] is JsonObject itemSchema:
                foreach (var item in array) ApplyInPlace(itemSchema, item);
                break;
        }
    }
}
