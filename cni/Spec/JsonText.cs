using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Trellis.Cni.Spec;

/// <summary>Prints JSON trees through a plain writer: no serializer options, nothing for the trimmer to lose.</summary>
public static class JsonText
{
    public static string Write(JsonNode node)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
            node.WriteTo(writer);
        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
