using System.Text.Json.Nodes;
using Trellis.ApiServer.Schema;

namespace Trellis.Crds.Tests;

/// <summary>Structural-schema defaulting exactly as the in-process API server applies it.</summary>
public static class SchemaDefaulting
{
    /// <summary>A defaulted copy of <paramref name="value"/>; the argument is left as it was.</summary>
    public static JsonNode? Apply(JsonObject schema, JsonNode? value) =>
        ServerFields.Restore(value, StructuralSchema.Parse(schema).Defaulted(ServerFields.Without(value)));
}
