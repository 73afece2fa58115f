using System.Text.Json.Nodes;
using Trellis.ApiServer.OpenApi;
using Trellis.ApiServer.Storage;

namespace Trellis.ApiServer.FieldManagement;

/// <summary>One entry of metadata.managedFields: who owns which fields, by which kind of write.</summary>
public sealed record ManagedFieldsEntry(string Manager, string Operation, string ApiVersion, string? Time, string Subresource, FieldSet Fields)
{
    public bool Is(string manager, string operation, string subresource) => Manager == manager && Operation == operation && Subresource == subresource;
}

/// <param name="Manager">The entry's manager, as a conflict names it ("kubectl-client-side-apply" using trellis.io/v1alpha1 at ...).</param>
public sealed record FieldConflict(ManagedFieldsEntry Manager, string Path);

/// <summary>
/// Field ownership as kube-apiserver keeps it: every write records which manager set which fields
/// (Update for create, update and patch; Apply for server-side apply); an apply merges the applied
/// configuration into the object by the schema (fields one by one, map-lists by their keys, sets by
/// value, atomic lists and maps whole), removes what the manager applied before and applies no
/// more (when nobody else owns it), and refuses to change a value another manager owns (409)
/// unless forced, which takes the field over.
/// </summary>
public static class FieldManager
{
    public const string ApplyOperation = "Apply";
    public const string UpdateOperation = "Update";

    private static readonly FieldShape MetadataShape = new StructShape(new Dictionary<string, FieldShape>
    {
        ["labels"] = new MapShape(FieldShape.Scalar, false),
        ["annotations"] = new MapShape(FieldShape.Scalar, false),
        ["finalizers"] = new ListShape(ListKind.Set, [], FieldShape.Scalar),
        ["ownerReferences"] = new ListShape(ListKind.Map, ["uid"], new StructShape(new Dictionary<string, FieldShape>(), true, FieldShape.Deduced)),
    }, false, null);

    /// <summary>The shape of a whole object written through <paramref name="subresource"/> ("" or "status").</summary>
    public static FieldShape RootShape(ResourceType type, string subresource)
    {
        var schema = type.IsCustom
            ? type.OpenApiSchema
            : new JsonObject { ["type"] = "object", ["properties"] = BuiltInSchemas.Properties(type), ["x-kubernetes-preserve-unknown-fields"] = !BuiltInSchemas.Describes(type) };
        var shape = FieldShape.FromSchema(schema) as StructShape ?? new StructShape(new Dictionary<string, FieldShape>(), false, FieldShape.Deduced);
        var fields = new Dictionary<string, FieldShape>(shape.Fields) { ["metadata"] = MetadataShape };
        var ignored = new HashSet<string> { "apiVersion", "kind" };
        if (subresource == "status") ignored.UnionWith(fields.Keys.Where(k => k != "status").Append("metadata"));
        else if (type.HasStatus) ignored.Add("status");
        return new StructShape(fields, false, subresource == "status" ? null : shape.Other, ignored);
    }

    public static List<ManagedFieldsEntry> Read(JsonObject? obj) =>
        obj?["metadata"]?["managedFields"] is JsonArray entries
            ? entries.OfType<JsonObject>().Select(e => new ManagedFieldsEntry(
                e["manager"]?.GetValue<string>() ?? "",
                e["operation"]?.GetValue<string>() ?? UpdateOperation,
                e["apiVersion"]?.GetValue<string>() ?? "",
                e["time"]?.GetValue<string>(),
                e["subresource"]?.GetValue<string>() ?? "",
                FieldSet.FromFieldsV1(e["fieldsV1"]))).ToList()
            : [];

    public static JsonArray Write(IEnumerable<ManagedFieldsEntry> entries) => new(entries.Where(e => e.Fields.Count > 0).Select(e =>
    {
        var entry = new JsonObject { ["manager"] = e.Manager, ["operation"] = e.Operation, ["apiVersion"] = e.ApiVersion };
        if (e.Time is not null) entry["time"] = e.Time;
        entry["fieldsType"] = "FieldsV1";
        entry["fieldsV1"] = e.Fields.ToFieldsV1();
        if (e.Subresource.Length > 0) entry["subresource"] = e.Subresource;
        return (JsonNode)entry;
    }).ToArray());

    /// <summary>
    /// Ownership after a create, update or patch: the manager's Update entry gains every field the
    /// write set or changed; every other entry loses them and every field the write removed.
    /// </summary>
    public static JsonArray TrackUpdate(JsonObject? before, JsonObject after, FieldShape shape, string manager, string apiVersion, string subresource, string now)
    {
        var entries = Read(before);
        var old = before is null ? new FieldSet() : FieldSet.Of(before, shape);
        var current = FieldSet.Of(after, shape);
        var changed = current.Paths.Where(p => IsItemWithFields(current, p) ? !FieldSet.Get(before, p).Found : Differs(before, after, p)).ToList();
        var removed = old.Paths.Where(p => !current.Contains(p)).ToList();
        var touched = changed.Concat(removed).ToHashSet();
        var result = new List<ManagedFieldsEntry>();
        ManagedFieldsEntry? mine = null;
        foreach (var entry in entries)
        {
            if (entry.Is(manager, UpdateOperation, subresource))
            {
                mine = entry with { ApiVersion = apiVersion, Time = changed.Count > 0 || removed.Count > 0 ? now : entry.Time, Fields = entry.Fields.Union(new FieldSet(changed)).Except(removed) };
                result.Add(mine);
            }
            else result.Add(entry with { Fields = entry.Fields.Except(touched) });
        }
        if (mine is null && changed.Count > 0) result.Add(new ManagedFieldsEntry(manager, UpdateOperation, apiVersion, now, subresource, new FieldSet(changed)));
        return Write(Present(result, after, shape));
    }

    /// <summary>Server-side apply of <paramref name="config"/> to <paramref name="current"/> (null: the object does not exist yet).</summary>
    /// <exception cref="ApiError">409 with one cause per conflicting field, when not forced.</exception>
    public static JsonObject Apply(JsonObject? current, JsonObject config, FieldShape shape, string manager, string apiVersion, string subresource, bool force, string now)
    {
        var entries = Read(current);
        var previous = entries.FirstOrDefault(e => e.Is(manager, ApplyOperation, subresource));
        var applied = FieldSet.Of(config, shape);
        var conflicts = new List<FieldConflict>();
        foreach (var path in applied.Paths.Order(StringComparer.Ordinal))
        {
            if (IsItemWithFields(applied, path)) continue;
            var (found, value) = FieldSet.Get(current, path);
            if (found && JsonNode.DeepEquals(value, FieldSet.Get(config, path).Value)) continue;
            foreach (var entry in entries)
                if (entry != previous && entry.Fields.Contains(path)) conflicts.Add(new FieldConflict(entry, path));
        }
        if (conflicts.Count > 0 && !force) throw Conflict(conflicts);
        var others = entries.Where(e => e != previous)
            .Select(e => e with { Fields = e.Fields.Except(conflicts.Where(c => c.Manager == e).Select(c => c.Path)) })
            .ToList();

        var result = current?.DeepClone().AsObject() ?? new JsonObject();
        if (previous is not null)
            foreach (var path in previous.Fields.Paths.Where(p => !applied.Contains(p) && !applied.OwnsAtOrBelow(p)).OrderByDescending(p => p.Length))
                if (!others.Any(e => e.Fields.OwnsAtOrBelow(path))) FieldSet.RemoveAt(result, path);
        result = (JsonObject)Merge(result, config, shape)!;

        var entry2 = new ManagedFieldsEntry(manager, ApplyOperation, apiVersion, now, subresource, applied);
        var ordered = new List<ManagedFieldsEntry>();
        var placed = false;
        foreach (var entry in entries)
        {
            if (entry == previous) { ordered.Add(entry2); placed = true; }
            else ordered.Add(others.First(o => o.Manager == entry.Manager && o.Operation == entry.Operation && o.Subresource == entry.Subresource && o.ApiVersion == entry.ApiVersion));
        }
        if (!placed) ordered.Add(entry2);
        result["metadata"] ??= new JsonObject();
        result["metadata"]!["managedFields"] = Write(Present(ordered, result, shape));
        return result;
    }

    /// <summary>Drops owned paths the object no longer has (pruned, defaulted away or removed by another write).</summary>
    public static JsonArray Retain(JsonArray managedFields, JsonObject obj, FieldShape shape)
    {
        var holder = new JsonObject { ["metadata"] = new JsonObject { ["managedFields"] = managedFields.DeepClone() } };
        return Write(Present(Read(holder), obj, shape));
    }

    /// <summary>Entries without the paths <paramref name="obj"/> no longer has (whatever shape wrote them: a status entry keeps its status paths).</summary>
    private static IEnumerable<ManagedFieldsEntry> Present(IEnumerable<ManagedFieldsEntry> entries, JsonObject obj, FieldShape shape) =>
        entries.Select(e => e with { Fields = e.Fields.Where(p => FieldSet.Get(obj, p).Found) });

    private static bool IsItemWithFields(FieldSet set, string path) =>
        FieldSet.Elements(path)[^1][0] == 'k' && set.Paths.Any(p => p.StartsWith(path + "\n", StringComparison.Ordinal));

    private static bool Differs(JsonObject? before, JsonObject after, string path)
    {
        var (found, old) = FieldSet.Get(before, path);
        return !found || !JsonNode.DeepEquals(old, FieldSet.Get(after, path).Value);
    }

    /// <summary>Merges an applied configuration into an object, field by field as the shape says.</summary>
    public static JsonNode? Merge(JsonNode? current, JsonNode? config, FieldShape? shape)
    {
        switch (shape)
        {
            case null or ScalarShape or ListShape { Kind: ListKind.Atomic } or StructShape { Atomic: true } or MapShape { Atomic: true }:
                return config?.DeepClone();
            case StructShape or MapShape or DeducedShape when config is JsonObject configObject:
                var result = current as JsonObject ?? new JsonObject();
                foreach (var (key, value) in configObject)
                {
                    var child = result[key];
                    var merged = Merge(child, value, shape.Field(key));
                    if (ReferenceEquals(child, merged)) continue;
                    result[key] = null;
                    result[key] = merged;
                }
                return result;
            case ListShape { Kind: ListKind.Set } when config is JsonArray configSet:
                var set = current as JsonArray ?? new JsonArray();
                foreach (var item in configSet)
                    if (!set.Any(i => JsonNode.DeepEquals(i, item))) set.Add(item?.DeepClone());
                return set;
            case ListShape { Kind: ListKind.Map } list when config is JsonArray configItems:
                var items = current as JsonArray ?? new JsonArray();
                foreach (var item in configItems.OfType<JsonObject>())
                {
                    var key = FieldSet.KeyElement(item, list.Keys);
                    var index = items.Select((i, n) => (i, n)).FirstOrDefault(x => x.i is JsonObject o && FieldSet.KeyElement(o, list.Keys) == key, (null, -1)).Item2;
                    if (index < 0) items.Add(item.DeepClone());
                    else
                    {
                        var existing = items[index];
                        var merged = Merge(existing, item, list.Item);
                        if (ReferenceEquals(existing, merged)) continue;
                        items[index] = null;
                        items[index] = merged;
                    }
                }
                return items;
            default:
                return config?.DeepClone();
        }
    }

    /// <summary>409 as kube-apiserver words it: "Apply failed with N conflict(s): conflict with "manager" using v: .path".</summary>
    public static ApiError Conflict(IReadOnlyList<FieldConflict> conflicts)
    {
        string Manager(ManagedFieldsEntry e)
        {
            var name = $"\"{e.Manager}\"" + (e.Subresource.Length > 0 ? $" with subresource \"{e.Subresource}\"" : "");
            if (e.Operation != UpdateOperation) return name;
            return e.Time is null ? $"{name} using {e.ApiVersion}" : $"{name} using {e.ApiVersion} at {e.Time}";
        }
        string message;
        if (conflicts.Count == 1) message = $"Apply failed with 1 conflict: conflict with {Manager(conflicts[0].Manager)}: {FieldSet.Describe(conflicts[0].Path)}";
        else
        {
            var lines = conflicts.GroupBy(c => Manager(c.Manager)).OrderBy(g => g.Key, StringComparer.Ordinal)
                .SelectMany(g => new[] { $"conflicts with {g.Key}:" }.Concat(g.Select(c => $"- {FieldSet.Describe(c.Path)}")));
            message = $"Apply failed with {conflicts.Count} conflicts: {string.Join("\n", lines)}";
        }
        return new ApiError(409, "Conflict", message)
        {
            Causes = conflicts.Select(c => new StatusCause("FieldManagerConflict", $"conflict with {Manager(c.Manager)}", FieldSet.Describe(c.Path))).ToArray(),
        };
    }
}
