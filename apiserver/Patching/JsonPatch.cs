using System.Globalization;
using System.Text.Json.Nodes;

namespace Trellis.ApiServer.Patching;

/// <summary>
/// JSON Patch (RFC 6902): add, remove, replace, move, copy, test, applied in order to a copy;
/// any failing operation fails the whole patch with a message naming the operation and path.
/// </summary>
public static class JsonPatch
{
    /// <exception cref="PatchException">An operation is malformed, a path is missing or a test fails.</exception>
    public static JsonNode? Apply(JsonNode? document, JsonNode? patch)
    {
        if (patch is not JsonArray operations) throw new PatchException("a JSON patch must be an array of operations", malformed: true);
        var root = new JsonObject { ["doc"] = document?.DeepClone() };
        for (var index = 0; index < operations.Count; index++)
        {
            if (operations[index] is not JsonObject operation) throw new PatchException($"operation {index} is not an object", malformed: true);
            var op = Text(operation, "op", index);
            var path = Text(operation, "path", index);
            switch (op)
            {
                case "add": Add(root, path, Value(operation, index)); break;
                case "remove": Remove(root, path); break;
                case "replace":
                    Remove(root, path);
                    Add(root, path, Value(operation, index));
                    break;
                case "move":
                    var from = Text(operation, "from", index);
                    if (path.StartsWith(from + "/", StringComparison.Ordinal)) throw new PatchException($"cannot move \"{from}\" into its own child \"{path}\"");
                    var moved = Remove(root, from);
                    Add(root, path, moved);
                    break;
                case "copy": Add(root, path, Resolve(root, Text(operation, "from", index))?.DeepClone()); break;
                case "test":
                    var actual = Resolve(root, path);
                    if (!JsonNode.DeepEquals(actual, operation["value"]))
                        throw new PatchException($"testing value {path} failed: expected {operation["value"]?.ToJsonString() ?? "null"}, found {actual?.ToJsonString() ?? "null"}");
                    break;
                default: throw new PatchException($"operation {index} has unknown op \"{op}\"", malformed: true);
            }
        }
        var result = root["doc"];
        root.Remove("doc");
        return result;
    }

    private static string Text(JsonObject operation, string field, int index) =>
        operation[field]?.GetValue<string>() ?? throw new PatchException($"operation {index} has no \"{field}\"", malformed: true);

    private static JsonNode? Value(JsonObject operation, int index) =>
        operation.TryGetPropertyValue("value", out var value) ? value?.DeepClone() : throw new PatchException($"operation {index} has no \"value\"", malformed: true);

    private static List<string> Tokens(string path)
    {
        if (path.Length == 0) return [];
        if (path[0] != '/') throw new PatchException($"path \"{path}\" does not start with '/'");
        return path[1..].Split('/').Select(t => t.Replace("~1", "/").Replace("~0", "~")).ToList();
    }

    /// <summary>The container of the last token plus that token, with the document itself under "doc".</summary>
    private static (JsonNode Parent, string Token) Locate(JsonObject root, string path)
    {
        var tokens = Tokens(path);
        JsonNode parent = root;
        var token = "doc";
        foreach (var next in tokens)
        {
            parent = Child(parent, token, path) ?? throw new PatchException($"path \"{path}\" does not exist");
            token = next;
        }
        return (parent, token);
    }

    private static JsonNode? Child(JsonNode parent, string token, string path) => parent switch
    {
        JsonObject obj => obj.TryGetPropertyValue(token, out var value) ? value : throw new PatchException($"path \"{path}\" does not exist"),
        JsonArray array => array[Index(array, token, path, allowEnd: false)],
        _ => throw new PatchException($"path \"{path}\" goes through a value that is neither object nor array"),
    };

    private static JsonNode? Resolve(JsonObject root, string path)
    {
        var (parent, token) = Locate(root, path);
        return Child(parent, token, path);
    }

    private static int Index(JsonArray array, string token, string path, bool allowEnd)
    {
        if (allowEnd && token == "-") return array.Count;
        if (!int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var index) || (token.Length > 1 && token[0] == '0'))
            throw new PatchException($"\"{token}\" in path \"{path}\" is not an array index");
        if (index > array.Count || (!allowEnd && index == array.Count))
            throw new PatchException($"index {index} in path \"{path}\" is out of range (the array has {array.Count} items)");
        return index;
    }

    private static void Add(JsonObject root, string path, JsonNode? value)
    {
        var (parent, token) = Locate(root, path);
        switch (parent)
        {
            case JsonObject obj:
                obj.Remove(token);
                obj[token] = value;
                break;
            case JsonArray array:
                array.Insert(Index(array, token, path, allowEnd: true), value);
                break;
            default: throw new PatchException($"cannot add at \"{path}\": its parent is neither object nor array");
        }
    }

    private static JsonNode? Remove(JsonObject root, string path)
    {
        var (parent, token) = Locate(root, path);
        switch (parent)
        {
            case JsonObject obj:
                if (!obj.TryGetPropertyValue(token, out var value)) throw new PatchException($"cannot remove \"{path}\": it does not exist");
                obj.Remove(token);
                return value;
            case JsonArray array:
                var index = Index(array, token, path, allowEnd: false);
                var item = array[index];
                array.RemoveAt(index);
                return item;
            default: throw new PatchException($"cannot remove \"{path}\": its parent is neither object nor array");
        }
    }
}

/// <param name="Malformed">The patch itself cannot be read (400 Bad Request); otherwise it could not be applied (422, as the real server answers a failed "test").</param>
public sealed class PatchException(string message, bool malformed = false) : Exception(message)
{
    public bool Malformed { get; } = malformed;
}
