using System.Text.Json.Nodes;

namespace Trellis.ApiServer.FieldManagement;

/// <summary>
/// How server-side apply sees a part of an object (structured-merge-diff's schema): a struct whose
/// fields merge one by one, a map merging by key, a list that is atomic, a set (items by value) or
/// a map-list (items by their keys), a scalar; atomic structs and maps are owned whole. Parts
/// without a schema are "deduced" as SMD does: objects merge by key, lists are atomic.
/// </summary>
public abstract record FieldShape
{
    public static readonly FieldShape Scalar = new ScalarShape();
    public static readonly FieldShape Deduced = new DeducedShape();

    /// <summary>The shape of a CRD's openAPIV3Schema, or of a built-in's described properties.</summary>
    public static FieldShape FromSchema(JsonObject? schema)
    {
        if (schema is null) return Deduced;
        if (schema["x-kubernetes-int-or-string"]?.GetValue<bool>() == true) return Scalar;
        switch (schema["type"]?.GetValue<string>())
        {
            case "object":
                var atomic = schema["x-kubernetes-map-type"]?.GetValue<string>() == "atomic";
                if (schema["additionalProperties"] is JsonObject additional) return new MapShape(FromSchema(additional), atomic);
                var properties = schema["properties"] as JsonObject;
                var preserve = schema["x-kubernetes-preserve-unknown-fields"]?.GetValue<bool>() == true;
                if (properties is null && preserve) return Deduced;
                return new StructShape(
                    (properties ?? []).Where(p => p.Value is JsonObject).ToDictionary(p => p.Key, p => FromSchema((JsonObject)p.Value!)),
                    atomic, preserve ? Deduced : null);
            case "array":
                var item = FromSchema(schema["items"] as JsonObject);
                return schema["x-kubernetes-list-type"]?.GetValue<string>() switch
                {
                    "set" => new ListShape(ListKind.Set, [], item),
                    "map" when schema["x-kubernetes-list-map-keys"] is JsonArray keys => new ListShape(ListKind.Map, keys.Select(k => k!.GetValue<string>()).ToArray(), item),
                    _ => new ListShape(ListKind.Atomic, [], item),
                };
            case null when schema["x-kubernetes-preserve-unknown-fields"]?.GetValue<bool>() == true:
                return Deduced;
            default:
                return Scalar;
        }
    }

    /// <summary>The shape a child field or item has (null: the field is not tracked).</summary>
    public virtual FieldShape? Field(string name) => null;
}

public sealed record ScalarShape : FieldShape;

public sealed record DeducedShape : FieldShape
{
    public override FieldShape? Field(string name) => Deduced;
}

/// <param name="Other">The shape of fields not declared (x-kubernetes-preserve-unknown-fields), or null when they are not tracked.</param>
/// <param name="Ignored">Fields field management never tracks (apiVersion, kind, most of metadata, status on the main resource).</param>
public sealed record StructShape(IReadOnlyDictionary<string, FieldShape> Fields, bool Atomic, FieldShape? Other, IReadOnlySet<string>? Ignored = null) : FieldShape
{
    public override FieldShape? Field(string name) => Ignored?.Contains(name) == true ? null : Fields.GetValueOrDefault(name) ?? Other;
}

public sealed record MapShape(FieldShape Value, bool Atomic) : FieldShape
{
    public override FieldShape? Field(string name) => Value;
}

public enum ListKind { Atomic, Set, Map }

public sealed record ListShape(ListKind Kind, IReadOnlyList<string> Keys, FieldShape Item) : FieldShape;
