using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Trellis.ApiServer.FieldManagement;

/// <summary>
/// A set of field paths as managedFields records them (FieldsV1): each path is a sequence of
/// elements "f:name" (a struct field or map key), "k:{...}" (a map-list item by its keys) and
/// "v:value" (a set item). A path in the set is owned; the FieldsV1 tree marks a path that also
/// has owned children with ".".
/// </summary>
public sealed class FieldSet
{
    private const char Separator = '\n';
    private readonly HashSet<string> _paths;

    public FieldSet(IEnumerable<string>? paths = null) => _paths = new HashSet<string>(paths ?? [], StringComparer.Ordinal);

    public IReadOnlyCollection<string> Paths => _paths;
    public int Count => _paths.Count;
    public bool Contains(string path) => _paths.Contains(path);
    public void Add(string path) => _paths.Add(path);
    public void Remove(string path) => _paths.Remove(path);
    public FieldSet Union(FieldSet other) => new(_paths.Concat(other._paths));
    public FieldSet Except(IEnumerable<string> paths) => new(_paths.Except(paths));
    public FieldSet Where(Func<string, bool> keep) => new(_paths.Where(keep));

    /// <summary>Whether the set owns <paramref name="path"/> or anything below it.</summary>
    public bool OwnsAtOrBelow(string path) => _paths.Any(p => p == path || p.StartsWith(path + Separator, StringComparison.Ordinal));

    public static string Join(string prefix, string element) => prefix.Length == 0 ? element : prefix + Separator + element;

    public static string[] Elements(string path) => path.Split(Separator);

    public static string Parent(string path) => path.LastIndexOf(Separator) is var at and >= 0 ? path[..at] : "";

    /// <summary>Every path <paramref name="value"/> sets, as <paramref name="shape"/> sees it: leaves, atomic parts, list items.</summary>
    public static FieldSet Of(JsonNode? value, FieldShape shape)
    {
        var set = new FieldSet();
        Collect(value, shape, "", set);
        return set;
    }

    private static void Collect(JsonNode? value, FieldShape shape, string prefix, FieldSet set)
    {
        switch (shape)
        {
            case StructShape { Atomic: false } or DeducedShape or MapShape { Atomic: false } when value is JsonObject obj:
                foreach (var (key, child) in obj)
                    if (shape.Field(key) is { } childShape) Collect(child, childShape, Join(prefix, "f:" + key), set);
                return;
            case ListShape { Kind: ListKind.Set } when value is JsonArray set1:
                foreach (var item in set1) set.Add(Join(prefix, "v:" + Json(item)));
                return;
            case ListShape { Kind: ListKind.Map } list when value is JsonArray items:
                foreach (var item in items)
                {
                    if (item is not JsonObject itemObject) continue;
                    var itemPath = Join(prefix, KeyElement(itemObject, list.Keys));
                    set.Add(itemPath);
                    Collect(item, list.Item, itemPath, set);
                }
                return;
            default:
                if (prefix.Length > 0) set.Add(prefix);
                return;
        }
    }

    public static string KeyElement(JsonObject item, IReadOnlyList<string> keys)
    {
        var key = new JsonObject();
        foreach (var name in keys.Order(StringComparer.Ordinal)) key[name] = item[name]?.DeepClone();
        return "k:" + key.ToJsonString(WireJson.Options);
    }

    private static string Json(JsonNode? value) => value?.ToJsonString(WireJson.Options) ?? "null";

    /// <summary>The value at <paramref name="path"/> in <paramref name="root"/>, and whether it is there.</summary>
    public static (bool Found, JsonNode? Value) Get(JsonNode? root, string path)
    {
        var current = root;
        foreach (var element in Elements(path))
        {
            var (found, next) = Step(current, element);
            if (!found) return (false, null);
            current = next;
        }
        return (true, current);
    }

    private static (bool, JsonNode?) Step(JsonNode? current, string element)
    {
        switch (element[0])
        {
            case 'f' when current is JsonObject obj:
                return obj.TryGetPropertyValue(element[2..], out var child) ? (true, child) : (false, null);
            case 'k' when current is JsonArray array:
                var key = JsonNode.Parse(element[2..])!.AsObject();
                var match = array.FirstOrDefault(i => i is JsonObject o && key.All(k => JsonNode.DeepEquals(o[k.Key], k.Value)));
                return match is null ? (false, null) : (true, match);
            case 'v' when current is JsonArray set:
                var value = JsonNode.Parse(element[2..]);
                var item = set.FirstOrDefault(i => JsonNode.DeepEquals(i, value));
                return item is null && !set.Any(i => i is null && value is null) ? (false, null) : (true, item);
            default:
                return (false, null);
        }
    }

    /// <summary>Removes the value at <paramref name="path"/> from <paramref name="root"/> (nothing when absent).</summary>
    public static void RemoveAt(JsonNode root, string path)
    {
        var parentPath = Parent(path);
        var parent = parentPath.Length == 0 ? (true, root) : Get(root, parentPath);
        if (!parent.Item1) return;
        var element = Elements(path)[^1];
        switch (parent.Item2)
        {
            case JsonObject obj when element.StartsWith("f:", StringComparison.Ordinal):
                obj.Remove(element[2..]);
                break;
            case JsonArray array when element[0] is 'k' or 'v':
                var (found, item) = Step(array, element);
                if (found) array.Remove(item);
                break;
        }
    }

    /// <summary>A path as structured-merge-diff prints it in conflicts: .spec.mtu, .data.key, [type="Ready"], [="10.0.0.0/8"].</summary>
    public static string Describe(string path)
    {
        var text = new StringBuilder();
        foreach (var element in Elements(path))
        {
            switch (element[0])
            {
                case 'f': text.Append('.').Append(element[2..]); break;
                case 'k':
                    var key = JsonNode.Parse(element[2..])!.AsObject();
                    text.Append('[').Append(string.Join(",", key.Select(k => $"{k.Key}={k.Value?.ToJsonString(WireJson.Options) ?? "null"}"))).Append(']');
                    break;
                case 'v': text.Append("[=").Append(element[2..]).Append(']'); break;
            }
        }
        return text.ToString();
    }

    private sealed class TreeNode
    {
        public bool Member;
        public SortedDictionary<string, TreeNode> Children { get; } = new(StringComparer.Ordinal);
    }

    public JsonObject ToFieldsV1()
    {
        var root = new TreeNode();
        foreach (var path in _paths)
        {
            var node = root;
            foreach (var element in Elements(path))
            {
                if (!node.Children.TryGetValue(element, out var child)) node.Children[element] = child = new TreeNode();
                node = child;
            }
            node.Member = true;
        }
        return Encode(root);
    }

    private static JsonObject Encode(TreeNode node)
    {
        var obj = new JsonObject();
        if (node.Member && node.Children.Count > 0) obj["."] = new JsonObject();
        foreach (var (element, child) in node.Children) obj[element] = Encode(child);
        return obj;
    }

    public static FieldSet FromFieldsV1(JsonNode? fields)
    {
        var set = new FieldSet();
        if (fields is JsonObject obj) Decode(obj, "", set);
        return set;
    }

    private static void Decode(JsonObject node, string prefix, FieldSet set)
    {
        foreach (var (element, child) in node)
        {
            if (element == ".")
            {
                if (prefix.Length > 0) set.Add(prefix);
                continue;
            }
            var path = Join(prefix, element);
            if (child is JsonObject { Count: 0 }) set.Add(path);
            else if (child is JsonObject childObject) Decode(childObject, path, set);
        }
    }
}
