using System.Globalization;
using System.Text.Json.Nodes;
using Trellis.ApiServer.Schema;

namespace Trellis.Crds.Tests;

/// <summary>
/// The OpenAPI v3 checks of the in-process API server's <see cref="StructuralSchema"/>, plus the
/// unknown fields it would silently prune (a typo in a manifest). CEL rules are not evaluated here.
/// </summary>
public static class SchemaValidation
{
    public static IReadOnlyList<string> Errors(JsonObject schema, JsonNode? value)
    {
        var structural = StructuralSchema.Parse(schema);
        var body = ServerFields.Without(value);
        return structural.UnknownFields(body, "")
            .Select(path => $"{path}: unknown field (the API server would drop it)")
            .Concat(structural.Check(body, "").Select(cause => $"{cause.Field}: {cause.Message}"))
            .ToList();
    }

    /// <summary>A JSON number's value, whichever CLR type the node was built from.</summary>
    public static double Number(JsonNode value) =>
        double.Parse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);
}

/// <summary>apiVersion, kind and metadata of a whole object are the server's, not the CRD schema's.</summary>
internal static class ServerFields
{
    private static readonly string[] Names = ["apiVersion", "kind", "metadata"];

    public static bool IsWholeObject(JsonNode? value) => value is JsonObject obj && obj.ContainsKey("kind");

    public static JsonNode? Without(JsonNode? value)
    {
        if (!IsWholeObject(value)) return value;
        var copy = value!.DeepClone().AsObject();
        foreach (var name in Names) copy.Remove(name);
        return copy;
    }

    public static JsonNode? Restore(JsonNode? original, JsonNode? processed)
    {
        if (!IsWholeObject(original) || processed is not JsonObject result) return processed;
        foreach (var name in Names)
            if (original![name] is { } field) result[name] = field.DeepClone();
        return result;
    }
}
