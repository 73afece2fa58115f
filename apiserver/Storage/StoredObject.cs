using System.Text.Json;
using System.Text.Json.Nodes;

namespace Trellis.ApiServer.Storage;

/// <summary>
/// One immutable revision of an object. The UTF-8 JSON is what goes on the wire, so lists and
/// watches copy bytes instead of re-serializing; the parsed element is built on first need
/// (selectors, tables) and is safe to read from many threads.
/// </summary>
public sealed class StoredObject
{
    private JsonDocument? _document;

    public StoredObject(string @namespace, string name, string uid, long revision, byte[] json)
    {
        Namespace = @namespace;
        Name = name;
        Uid = uid;
        Revision = revision;
        Json = json;
    }

    public string Namespace { get; }
    public string Name { get; }
    public string Uid { get; }
    public long Revision { get; }
    public byte[] Json { get; }
    public JsonElement Root => (_document ??= JsonDocument.Parse(Json)).RootElement;

    /// <summary>A fresh mutable copy.</summary>
    public JsonObject ToNode() => JsonNode.Parse(Json)!.AsObject();

    public static StoredObject From(JsonObject node)
    {
        var metadata = node["metadata"]!.AsObject();
        return new StoredObject(
            metadata["namespace"]?.GetValue<string>() ?? "",
            metadata["name"]!.GetValue<string>(),
            metadata["uid"]?.GetValue<string>() ?? "",
            // A dry-run create has no resourceVersion yet.
            metadata["resourceVersion"] is { } version ? long.Parse(version.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture) : 0,
            JsonSerializer.SerializeToUtf8Bytes(node, WireJson.Options));
    }
}

public enum WatchEventType { Added, Modified, Deleted }

/// <param name="Previous">The object before a modification, so a selector-filtered watch can tell "stopped matching" apart.</param>
public sealed record StoreEvent(WatchEventType Type, StorageKey Key, StoredObject Object, StoredObject? Previous);
