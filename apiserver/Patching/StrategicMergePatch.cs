using System.Text.Json.Nodes;

namespace Trellis.ApiServer.Patching;

/// <summary>
/// Strategic merge patch, simplified. The real server reads per-field merge keys and strategies
/// from the Go types; this one has no such tables, so it is JSON merge patch plus: a list of
/// objects merges item by item on the "name" key when the existing items carry names (the merge
/// key of containers, conditions-by-type aside, env, ports, volumes...); other lists are replaced.
/// Directives honoured: "$patch": "delete" (drops a map or a named list item), "$patch":
/// "replace" (a map or list replaces instead of merging), "$retainKeys" (keys of a map not
/// listed are dropped), "$deleteFromPrimitiveList/field"; "$setElementOrder/field" is ignored.
/// </summary>
public static class StrategicMergePatch
{
    /// <returns>The merged value, or null when the patch deletes it.</returns>
    public static JsonNode? Apply(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject patchObject) return Strip(patch);
        var directive = patchObject["$patch"]?.GetValue<string>();
        if (directive == "delete") return null;
        if (directive == "replace") return Strip(patchObject);
        if (directive is not null) throw new PatchException($"unknown $patch directive \"{directive}\"", malformed: true);

        var result = target is JsonObject targetObject ? targetObject : new JsonObject();
        foreach (var (key, value) in patchObject)
        {
            if (key.StartsWith("$setElementOrder/", StringComparison.Ordinal) || key is "$retainKeys" or "$patch") continue;
            if (key.StartsWith("$deleteFromPrimitiveList/", StringComparison.Ordinal))
            {
                var field = key["$deleteFromPrimitiveList/".Length..];
                if (result[field] is JsonArray primitives && value is JsonArray doomed)
                    foreach (var item in primitives.Where(p => doomed.Any(d => JsonNode.DeepEquals(d, p))).ToArray()) primitives.Remove(item);
                continue;
            }
            var existing = result[key];
            result.Remove(key);
            if (value is null) continue;
            var merged = value switch
            {
                JsonArray list when existing is JsonArray current && IsNamedList(current) => MergeNamedList(current, list),
                JsonObject => Apply(existing, value),
                _ => Strip(value),
            };
            if (merged is not null) result[key] = merged;
        }
        if (patchObject["$retainKeys"] is JsonArray retain)
        {
            var keep = retain.Select(k => k!.GetValue<string>()).ToHashSet();
            foreach (var key in result.Select(p => p.Key).Where(k => !keep.Contains(k)).ToArray()) result.Remove(key);
        }
        return result;
    }

    private static bool IsNamedList(JsonArray list) =>
        list.Count > 0 && list.All(item => item is JsonObject obj && obj["name"] is JsonValue);

    private static JsonArray MergeNamedList(JsonArray current, JsonArray patch)
    {
        if (patch.Any(item => item is JsonObject obj && obj["$patch"]?.GetValue<string>() == "replace"))
            return new JsonArray(patch.Where(item => !(item is JsonObject obj && obj["$patch"] is not null)).Select(Strip).ToArray());
        var result = new JsonArray(current.Select(item => item!.DeepClone()).ToArray());
        foreach (var item in patch)
        {
            if (item is not JsonObject patchItem || patchItem["name"]?.GetValue<string>() is not { } name)
            {
                result.Add(Strip(item));
                continue;
            }
            var match = result.FirstOrDefault(existing => existing!["name"]?.GetValue<string>() == name);
            if (match is null)
            {
                if (patchItem["$patch"]?.GetValue<string>() != "delete") result.Add(Strip(patchItem));
                continue;
            }
            var index = result.IndexOf(match);
            result.RemoveAt(index);
            var merged = Apply(match, patchItem);
            if (merged is not null) result.Insert(index, merged);
        }
        return result;
    }

    /// <summary>A copy of a patch value without directive keys, for places where it replaces rather than merges.</summary>
    private static JsonNode? Strip(JsonNode? value) => value switch
    {
        JsonObject obj => new JsonObject(obj.Where(p => !p.Key.StartsWith('$')).Select(p => KeyValuePair.Create(p.Key, Strip(p.Value)))),
        JsonArray array => new JsonArray(array.Select(Strip).ToArray()),
        _ => value?.DeepClone(),
    };
}
