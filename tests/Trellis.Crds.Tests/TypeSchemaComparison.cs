using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using k8s.Models;

namespace Trellis.Crds.Tests;

/// <summary>A C# property and the schema node it was matched with.</summary>
public sealed record MatchedProperty(string Path, PropertyInfo Property, JsonObject Schema);

/// <summary>What walking a C# type and a structural schema side by side found.</summary>
public sealed record SchemaComparison(IReadOnlyList<string> Differences, IReadOnlyList<MatchedProperty> Properties);

/// <summary>
/// Walks a C# type (by its JSON property names) and an OpenAPI v3 structural schema together and
/// reports every property present on one side only and every incompatible type.
/// </summary>
public static class TypeSchemaComparison
{
    public static SchemaComparison Compare(Type type, JsonObject schema)
    {
        var differences = new List<string>();
        var properties = new List<MatchedProperty>();
        Walk(type, schema, "", differences, properties);
        return new SchemaComparison(differences, properties);
    }

    /// <summary>The name a property has on the wire: its JsonPropertyName, else camelCase as KubernetesJson writes it.</summary>
    public static string JsonName(PropertyInfo property) =>
        property.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name
        ?? JsonNamingPolicyCamelCase(property.Name);

    public static IEnumerable<PropertyInfo> SerializedProperties(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(property => property.GetIndexParameters().Length == 0)
            .Where(property => property.GetCustomAttribute<JsonIgnoreAttribute>() is not { Condition: JsonIgnoreCondition.Always });

    public static Type? ListElementType(Type type)
    {
        if (type == typeof(string) || DictionaryValueType(type) is not null) return null;
        if (type.IsArray) return type.GetElementType();
        var enumerable = type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IEnumerable<>)
            ? type
            : type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>));
        return enumerable?.GetGenericArguments()[0];
    }

    public static Type? DictionaryValueType(Type type)
    {
        var dictionary = type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IDictionary<,>)
            ? type
            : type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDictionary<,>));
        return dictionary is not null && dictionary.GetGenericArguments()[0] == typeof(string)
            ? dictionary.GetGenericArguments()[1]
            : null;
    }

    private static void Walk(Type type, JsonObject schema, string path, List<string> differences, List<MatchedProperty> properties)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        var at = path.Length == 0 ? "(root)" : path;

        void Expect(string schemaType, string? format)
        {
            var actualType = (string?)schema["type"];
            var actualFormat = (string?)schema["format"];
            if (actualType != schemaType || actualFormat != format)
                differences.Add($"{at}: C# {type.Name} needs type '{schemaType}'{(format is null ? " without a format" : $" format '{format}'")}, " +
                                $"the schema has type '{actualType}'{(actualFormat is null ? "" : $" format '{actualFormat}'")}");
        }

        if (type == typeof(string)) Expect("string", null);
        else if (type == typeof(int)) Expect("integer", "int32");
        else if (type == typeof(long)) Expect("integer", "int64");
        else if (type == typeof(bool)) Expect("boolean", null);
        else if (type == typeof(DateTime) || type == typeof(DateTimeOffset)) Expect("string", "date-time");
        else if (DictionaryValueType(type) is { } valueType)
        {
            Expect("object", null);
            if (schema["properties"] is not null)
                differences.Add($"{at}: C# {type.Name} is a map, the schema lists fixed properties");
            if (schema["additionalProperties"] is JsonObject valueSchema) Walk(valueType, valueSchema, $"{path}[*]", differences, properties);
            else differences.Add($"{at}: C# {type.Name} is a map, the schema has no additionalProperties schema");
        }
        else if (ListElementType(type) is { } elementType)
        {
            Expect("array", null);
            if (schema["items"] is JsonObject itemSchema) Walk(elementType, itemSchema, $"{path}[]", differences, properties);
            else differences.Add($"{at}: C# {type.Name} is a list, the schema has no items schema");
        }
        else if (type == typeof(V1ObjectMeta))
        {
            // The API server validates metadata itself; a CRD may only say it is an object.
            Expect("object", null);
            if (schema["properties"] is not null) differences.Add($"{at}: metadata must not declare properties");
        }
        else if (type.IsClass)
        {
            Expect("object", null);
            WalkObject(type, schema, path, at, differences, properties);
        }
        else
        {
            differences.Add($"{at}: C# type {type} has no schema counterpart this comparison knows");
        }
    }

    private static void WalkObject(Type type, JsonObject schema, string path, string at, List<string> differences, List<MatchedProperty> properties)
    {
        var schemaProperties = schema["properties"] as JsonObject ?? [];
        var csharpProperties = SerializedProperties(type).ToDictionary(JsonName, StringComparer.Ordinal);

        foreach (var (name, property) in csharpProperties)
        {
            if (schemaProperties[name] is JsonObject propertySchema)
            {
                var propertyPath = $"{path}.{name}";
                properties.Add(new MatchedProperty(propertyPath, property, propertySchema));
                Walk(property.PropertyType, propertySchema, propertyPath, differences, properties);
            }
            else
            {
                differences.Add($"{path}.{name}: C# {type.Name}.{property.Name} is not in the schema");
            }
        }

        foreach (var (name, _) in schemaProperties)
            if (!csharpProperties.ContainsKey(name))
                differences.Add($"{path}.{name}: in the schema but C# {type.Name} has no such property");

        foreach (var required in schema["required"]?.AsArray() ?? [])
            if (!csharpProperties.ContainsKey((string)required!))
                differences.Add($"{at}: requires '{required}', which C# {type.Name} does not have");
    }

    private static string JsonNamingPolicyCamelCase(string name) =>
        System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(name);
}
