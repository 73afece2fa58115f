using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Trellis.ApiServer.Storage;

/// <summary>What a write may change: the object without its status, its status only, or (the server's own writes, such as a pod binding) both.</summary>
public enum UpdateScope { Main, Status, MainAndStatus }

public enum PropagationPolicy { Background, Orphan, Foreground }

/// <summary>What metadata.managedFields becomes on a write, from the object before (null on create) and after admission.</summary>
public delegate System.Text.Json.Nodes.JsonArray ManagedFieldsUpdate(JsonObject? before, JsonObject after);

/// <param name="Continue">The token for the next page, or null when this was the last one.</param>
public sealed record ListResult(IReadOnlyList<StoredObject> Items, long Revision, string? Continue);

/// <param name="Pending">True when finalizers keep the object: it now carries deletionTimestamp.</param>
public sealed record DeleteResult(StoredObject Object, bool Pending);

/// <summary>
/// The versioned object store: every write takes one lock, gets the next global revision,
/// appends to a bounded history and offers the event to the watchers of that resource.
/// No HTTP here; callers pass and receive JSON. Server-owned metadata (uid, creationTimestamp,
/// resourceVersion, generation, deletionTimestamp) is decided here and nowhere else.
/// </summary>
public sealed partial class ObjectStore
{
    private readonly object _lock = new();
    private readonly Dictionary<StorageKey, SortedDictionary<string, StoredObject>> _buckets = new();
    private readonly Dictionary<string, ObjectRef> _byUid = new();
    private readonly Dictionary<string, HashSet<ObjectRef>> _dependentsByOwnerUid = new();
    private readonly Dictionary<StorageKey, List<Watcher>> _watchers = new();
    private readonly Queue<StoreEvent> _history = new();
    private readonly Dictionary<StorageKey, long> _lastWrite = new();
    private readonly int _historyLimit;
    private readonly int _watcherQueueLimit;
    private readonly TimeProvider _time;
    private long _revision;
    /// <summary>Every event with a revision above this is still in the history.</summary>
    private long _historyFloor;

    public ObjectStore(int historyLimit = 10_000, int watcherQueueLimit = 10_000, TimeProvider? time = null)
    {
        if (historyLimit < 1) throw new ArgumentOutOfRangeException(nameof(historyLimit), historyLimit, "the watch history must keep at least one event");
        if (watcherQueueLimit < 1) throw new ArgumentOutOfRangeException(nameof(watcherQueueLimit), watcherQueueLimit, "a watcher queue must hold at least one event");
        _historyLimit = historyLimit;
        _watcherQueueLimit = watcherQueueLimit;
        _time = time ?? TimeProvider.System;
    }

    private readonly record struct ObjectRef(StorageKey Key, string Namespace, string Name);

    private static readonly StorageKey NamespacesKey = new("", "namespaces");

    public long CurrentRevision { get { lock (_lock) return _revision; } }

    /// <summary>The revision of the last write to any of <paramref name="keys"/> (0 when none was ever written): a cheap "did they change".</summary>
    public long LastWriteRevision(params StorageKey[] keys)
    {
        lock (_lock) return keys.Max(k => _lastWrite.GetValueOrDefault(k));
    }

    private static string BucketKey(string @namespace, string name) => @namespace + "/" + name;

    private SortedDictionary<string, StoredObject> Bucket(StorageKey key)
    {
        if (!_buckets.TryGetValue(key, out var bucket)) _buckets[key] = bucket = new(StringComparer.Ordinal);
        return bucket;
    }

    /// <param name="warnings">Receives what admission only warns about (ratcheted CEL failures); null to drop them.</param>
    /// <param name="managedFields">How the write changes field ownership; null leaves none recorded.</param>
    /// <param name="dryRun">Admit and answer as if written, but change nothing (?dryRun=All).</param>
    public StoredObject Create(ResourceType type, string? @namespace, JsonObject obj, List<string>? warnings = null,
        ManagedFieldsUpdate? managedFields = null, bool dryRun = false)
    {
        var metadata = obj["metadata"] as JsonObject ?? throw ApiError.BadRequest($"{type.Kind} has no metadata");
        var ns = type.Namespaced ? @namespace ?? metadata["namespace"]?.GetValue<string>() ?? "default" : "";
        var name = metadata["name"]?.GetValue<string>() ?? "";
        var generateName = metadata["generateName"]?.GetValue<string>() ?? "";
        if (name.Length == 0 && generateName.Length == 0)
            throw ApiError.Invalid(type, "", [new StatusCause("FieldValueRequired", "Required value: name or generateName is required", "metadata.name")]);
        if (name.Length > 0) ValidateName(type, name);
        if (type.Namespaced) metadata["namespace"] = ns; else metadata.Remove("namespace");
        if (MetadataValidation.Check(metadata) is { Count: > 0 } metadataCauses) throw ApiError.Invalid(type, name.Length > 0 ? name : generateName, metadataCauses);
        AdmitSchema(type, obj, null, name.Length > 0 ? name : generateName, warnings);

        lock (_lock)
        {
            if (type.Namespaced && !Bucket(NamespacesKey).ContainsKey(BucketKey("", ns)))
                throw new ApiError(404, "NotFound", $"namespaces \"{ns}\" not found") { Name = ns, Kind = "namespaces" };
            var bucket = Bucket(type.Key);
            if (name.Length == 0)
            {
                do name = generateName + RandomSuffix(); while (bucket.ContainsKey(BucketKey(ns, name)));
                ValidateName(type, name);
                metadata["name"] = name;
            }
            if (bucket.ContainsKey(BucketKey(ns, name))) throw ApiError.AlreadyExists(type, name);

            metadata["uid"] = Guid.NewGuid().ToString();
            metadata["creationTimestamp"] = Rfc3339(_time.GetUtcNow());
            metadata["generation"] = 1;
            metadata.Remove("deletionTimestamp");
            metadata.Remove("deletionGracePeriodSeconds");
            metadata.Remove("managedFields");
            DropEmptyMetadata(metadata);
            if (managedFields?.Invoke(null, obj) is { Count: > 0 } fields) metadata["managedFields"] = fields;
            if (dryRun)
            {
                metadata.Remove("resourceVersion");
                return StoredObject.From(obj);
            }
            metadata["resourceVersion"] = (++_revision).ToString(CultureInfo.InvariantCulture);
            var stored = StoredObject.From(obj);
            Put(type.Key, stored, null, obj);
            Publish(new StoreEvent(WatchEventType.Added, type.Key, stored, null));
            CollectIfEveryOwnerIsGoing(type.Key, stored);
            return stored;
        }
    }

    /// <summary>
    /// What the garbage collector does to a dependent created while an owner waits for its
    /// dependents (foreground deletion): with no other owner left it is deleted too; beside an owner
    /// that stays, it only loses the reference. So a controller whose cache has not yet seen the
    /// owner's deletion cannot keep the owner alive.
    /// </summary>
    private void CollectIfEveryOwnerIsGoing(StorageKey key, StoredObject stored)
    {
        if (!stored.Root.GetProperty("metadata").TryGetProperty("ownerReferences", out var references)
            || references.ValueKind != System.Text.Json.JsonValueKind.Array) return;
        var waiting = new HashSet<string>();
        var solid = false;
        foreach (var reference in references.EnumerateArray())
        {
            // An owner that is absent is the background collector's business, not modelled here.
            if (!reference.TryGetProperty("uid", out var uidElement) || uidElement.GetString() is not { } uid
                || !_byUid.TryGetValue(uid, out var ownerRef) || !Bucket(ownerRef.Key).TryGetValue(BucketKey(ownerRef.Namespace, ownerRef.Name), out var owner)) return;
            var metadata = owner.Root.GetProperty("metadata");
            if (metadata.TryGetProperty("deletionTimestamp", out _)
                && metadata.TryGetProperty("finalizers", out var finalizers) && finalizers.ValueKind == System.Text.Json.JsonValueKind.Array
                && finalizers.EnumerateArray().Any(f => f.GetString() == ForegroundDeletion))
                waiting.Add(uid);
            else
                solid = true;
        }
        if (waiting.Count == 0) return;
        if (!solid)
            DeleteLocked(key, stored, PropagationPolicy.Background);
        else
        {
            var node = stored.ToNode();
            node["metadata"]!["ownerReferences"] = new JsonArray(node["metadata"]!["ownerReferences"]!.AsArray()
                .Where(r => !waiting.Contains(r!["uid"]!.GetValue<string>())).Select(r => r!.DeepClone()).ToArray());
            node["metadata"]!["resourceVersion"] = (++_revision).ToString(CultureInfo.InvariantCulture);
            var updated = StoredObject.From(node);
            Put(key, updated, stored, node);
            Publish(new StoreEvent(WatchEventType.Modified, key, updated, stored));
        }
        foreach (var uid in waiting) FinishForeground(uid);
    }

    public StoredObject Get(ResourceType type, string? @namespace, string name)
    {
        lock (_lock)
            return Bucket(type.Key).GetValueOrDefault(BucketKey(type.Namespaced ? @namespace ?? "" : "", name)) ?? throw ApiError.NotFound(type, name);
    }

    /// <param name="namespace">Null lists across all namespaces.</param>
    /// <param name="filter">Runs outside the lock on a snapshot.</param>
    /// <param name="continueToken">
    /// From the page before: this page comes from the same snapshot (the revision of the first page), as etcd serves
    /// kube-apiserver's, so the pages of one list never mix states. 410 Gone once the history since that revision is gone.
    /// </param>
    public ListResult List(ResourceType type, string? @namespace, Func<StoredObject, bool>? filter = null, int limit = 0, string? continueToken = null)
    {
        StoredObject[] snapshot;
        long revision;
        var after = continueToken is null ? null : DecodeContinue(continueToken);
        lock (_lock)
        {
            revision = after?.Revision ?? _revision;
            IEnumerable<KeyValuePair<string, StoredObject>> all = after is null ? Bucket(type.Key) : BucketAt(type.Key, after.Revision);
            if (after is not null) all = all.Where(p => string.CompareOrdinal(p.Key, after.LastKey) > 0);
            snapshot = all.Select(p => p.Value).Where(o => @namespace is null || o.Namespace == @namespace).ToArray();
        }
        var items = new List<StoredObject>();
        string? next = null;
        foreach (var item in snapshot)
        {
            if (filter is not null && !filter(item)) continue;
            if (limit > 0 && items.Count == limit)
            {
                var last = items[^1];
                next = EncodeContinue(new ContinueFrom(BucketKey(last.Namespace, last.Name), revision));
                break;
            }
            items.Add(item);
        }
        return new ListResult(items, revision, next);
    }

    /// <summary>
    /// The bucket as it was at <paramref name="revision"/>: the current objects with the kept history after that revision
    /// undone, newest first (a creation taken away, a change or deletion put back as it was before).
    /// </summary>
    private IEnumerable<KeyValuePair<string, StoredObject>> BucketAt(StorageKey key, long revision)
    {
        if (revision > _revision) throw ApiError.BadRequest($"continue key names resource version {revision}, which is in the future");
        if (revision < _historyFloor)
            throw ApiError.Gone($"the continue key's resource version {revision} is older than the history kept ({_historyFloor + 1}): " +
                "this list cannot go on consistently; list again without continue");
        var current = Bucket(key);
        var later = _history.Where(e => e.Key == key && e.Object.Revision > revision).Reverse().ToList();
        if (later.Count == 0) return current;
        var then = new SortedDictionary<string, StoredObject>(current, StringComparer.Ordinal);
        foreach (var e in later)
        {
            if (e.Previous is null) then.Remove(BucketKey(e.Object.Namespace, e.Object.Name));
            else then[BucketKey(e.Previous.Namespace, e.Previous.Name)] = e.Previous;
        }
        return then;
    }

    /// <summary>
    /// Replaces an object with what <paramref name="mutate"/> makes of a copy of the current one
    /// (a PUT body, or the current object with a patch applied). The candidate's
    /// metadata.resourceVersion, when present, is a precondition.
    /// </summary>
    /// <param name="requireResourceVersion">A PUT of a custom resource must name the version it replaces.</param>
    public StoredObject Update(ResourceType type, string? @namespace, string name, Func<JsonObject, JsonObject> mutate,
        UpdateScope scope = UpdateScope.Main, bool requireResourceVersion = false, List<string>? warnings = null,
        ManagedFieldsUpdate? managedFields = null, bool dryRun = false)
    {
        var ns = type.Namespaced ? @namespace ?? "" : "";
        lock (_lock)
        {
            var bucket = Bucket(type.Key);
            var current = bucket.GetValueOrDefault(BucketKey(ns, name)) ?? throw ApiError.NotFound(type, name);
            var before = current.ToNode();
            var candidate = mutate(current.ToNode());
            if (candidate["metadata"] is not JsonObject candidateMetadata)
                throw ApiError.Invalid(type, name, [new StatusCause("FieldValueRequired", "Required value", "metadata")]);
            var requestedVersion = candidateMetadata["resourceVersion"]?.GetValue<string>();
            if (string.IsNullOrEmpty(requestedVersion))
            {
                if (requireResourceVersion)
                    throw ApiError.Invalid(type, name, [new StatusCause("FieldValueInvalid", "Invalid value: 0x0: must be specified for an update", "metadata.resourceVersion")]);
            }
            else if (requestedVersion != current.Revision.ToString(CultureInfo.InvariantCulture))
                throw ApiError.StaleResourceVersion(type, name);

            var next = scope == UpdateScope.Status ? WithStatusOf(before, candidate) : candidate;
            if (scope == UpdateScope.Main && type.HasStatus)
            {
                next.Remove("status");
                if (before["status"] is { } status) next["status"] = status.DeepClone();
            }
            var nextMetadata = next["metadata"]!.AsObject();
            var beforeMetadata = before["metadata"]!.AsObject();
            foreach (var owned in new[] { "uid", "creationTimestamp", "generation", "deletionTimestamp", "deletionGracePeriodSeconds", "name", "namespace", "generateName" })
            {
                nextMetadata.Remove(owned);
                if (beforeMetadata[owned] is { } value) nextMetadata[owned] = value.DeepClone();
            }
            nextMetadata["resourceVersion"] = beforeMetadata["resourceVersion"]!.DeepClone();
            if (beforeMetadata["deletionTimestamp"] is not null && FinalizersGrew(beforeMetadata, nextMetadata))
                throw ApiError.Invalid(type, name, [new StatusCause("FieldValueForbidden", "Forbidden: no new finalizers can be added if the object is being deleted", "metadata.finalizers")]);
            if (MetadataValidation.Check(nextMetadata) is { Count: > 0 } metadataCauses) throw ApiError.Invalid(type, name, metadataCauses);
            AdmitSchema(type, next, before, name, warnings);
            DropEmptyMetadata(nextMetadata);
            nextMetadata.Remove("managedFields");
            var owners = managedFields is not null ? managedFields(before, next) : beforeMetadata["managedFields"]?.DeepClone() as JsonArray;
            if (owners is { Count: > 0 }) nextMetadata["managedFields"] = owners;

            if (JsonNode.DeepEquals(before, next)) return current;
            if (SpecChanged(type, before, next))
                nextMetadata["generation"] = (beforeMetadata["generation"]?.GetValue<long>() ?? 0) + 1;
            if (dryRun) return StoredObject.From(next);
            nextMetadata["resourceVersion"] = (++_revision).ToString(CultureInfo.InvariantCulture);

            if (nextMetadata["deletionTimestamp"] is not null && Finalizers(nextMetadata).Count == 0)
                return Remove(type.Key, current, next, PropagationPolicy.Background);

            var stored = StoredObject.From(next);
            Put(type.Key, stored, current, next);
            Publish(new StoreEvent(WatchEventType.Modified, type.Key, stored, current));
            return stored;
        }
    }

    /// <param name="expectedUid">DeleteOptions.preconditions.uid</param>
    /// <param name="expectedResourceVersion">DeleteOptions.preconditions.resourceVersion</param>
    public DeleteResult Delete(ResourceType type, string? @namespace, string name, string? expectedUid = null,
        string? expectedResourceVersion = null, PropagationPolicy propagation = PropagationPolicy.Background)
    {
        var ns = type.Namespaced ? @namespace ?? "" : "";
        lock (_lock)
        {
            var current = Bucket(type.Key).GetValueOrDefault(BucketKey(ns, name)) ?? throw ApiError.NotFound(type, name);
            CheckDeletePreconditions(type, name, current, expectedUid, expectedResourceVersion);
            return DeleteLocked(type.Key, current, propagation);
        }
    }

    private static void CheckDeletePreconditions(ResourceType type, string name, StoredObject current, string? expectedUid, string? expectedResourceVersion)
    {
        if (expectedUid is not null && expectedUid != current.Uid)
            throw ApiError.Conflict(type, name, $"Precondition failed: UID in precondition: {expectedUid}, UID in object meta: {current.Uid}");
        if (expectedResourceVersion is not null && expectedResourceVersion != current.Revision.ToString(CultureInfo.InvariantCulture))
            throw ApiError.Conflict(type, name, $"Precondition failed: ResourceVersion in precondition: {expectedResourceVersion}, ResourceVersion in object meta: {current.Revision}");
    }

    /// <summary>Removes every object of a resource (its CRD went away), announcing each deletion, then ends its watches.</summary>
    public void DeleteAll(StorageKey key)
    {
        lock (_lock)
        {
            foreach (var stored in Bucket(key).Values.ToArray())
            {
                var node = stored.ToNode();
                node["metadata"]!["resourceVersion"] = (++_revision).ToString(CultureInfo.InvariantCulture);
                Remove(key, stored, node, PropagationPolicy.Background);
            }
            if (_watchers.TryGetValue(key, out var watchers))
                foreach (var watcher in watchers.ToArray()) watcher.Close();
        }
    }

    public const string ForegroundDeletion = "foregroundDeletion";

    private DeleteResult DeleteLocked(StorageKey key, StoredObject current, PropagationPolicy propagation)
    {
        // Orphan: the dependents lose their reference now, as the garbage collector does while the owner holds "orphan".
        if (propagation == PropagationPolicy.Orphan) CollectDependents(current.Uid, PropagationPolicy.Orphan);
        if (propagation == PropagationPolicy.Foreground && Dependents(current.Uid).Count > 0) return DeleteInForeground(key, current);
        var node = current.ToNode();
        var metadata = node["metadata"]!.AsObject();
        if (Finalizers(metadata).Count > 0)
        {
            if (metadata["deletionTimestamp"] is not null) return new DeleteResult(current, true);
            metadata["deletionTimestamp"] = Rfc3339(_time.GetUtcNow());
            metadata["deletionGracePeriodSeconds"] = 0;
            metadata["generation"] = (metadata["generation"]?.GetValue<long>() ?? 0) + 1;
            metadata["resourceVersion"] = (++_revision).ToString(CultureInfo.InvariantCulture);
            var stored = StoredObject.From(node);
            Put(key, stored, current, node);
            Publish(new StoreEvent(WatchEventType.Modified, key, stored, current));
            return new DeleteResult(stored, true);
        }
        metadata["resourceVersion"] = (++_revision).ToString(CultureInfo.InvariantCulture);
        return new DeleteResult(Remove(key, current, node, propagation), false);
    }

    /// <summary>
    /// Foreground deletion: the owner keeps deletionTimestamp and the foregroundDeletion finalizer
    /// while its dependents are deleted; it goes once no dependent that blocks its deletion
    /// (ownerReference.blockOwnerDeletion) is left, which may be later if a dependent has finalizers.
    /// </summary>
    private DeleteResult DeleteInForeground(StorageKey key, StoredObject current)
    {
        var node = current.ToNode();
        var metadata = node["metadata"]!.AsObject();
        var finalizers = Finalizers(metadata);
        if (!finalizers.Contains(ForegroundDeletion) || metadata["deletionTimestamp"] is null)
        {
            if (!finalizers.Contains(ForegroundDeletion)) finalizers.Add(ForegroundDeletion);
            metadata["finalizers"] = new JsonArray(finalizers.Select(f => (JsonNode)f).ToArray());
            if (metadata["deletionTimestamp"] is null)
            {
                metadata["deletionTimestamp"] = Rfc3339(_time.GetUtcNow());
                metadata["deletionGracePeriodSeconds"] = 0;
                metadata["generation"] = (metadata["generation"]?.GetValue<long>() ?? 0) + 1;
            }
            metadata["resourceVersion"] = (++_revision).ToString(CultureInfo.InvariantCulture);
            var marked = StoredObject.From(node);
            Put(key, marked, current, node);
            Publish(new StoreEvent(WatchEventType.Modified, key, marked, current));
        }
        foreach (var dependent in Dependents(current.Uid))
            if (Bucket(dependent.Key).TryGetValue(BucketKey(dependent.Namespace, dependent.Name), out var stored)
                && !stored.Root.GetProperty("metadata").TryGetProperty("deletionTimestamp", out _))
                DeleteLocked(dependent.Key, stored, PropagationPolicy.Background);
        FinishForeground(current.Uid);
        return _byUid.TryGetValue(current.Uid, out var owner) && Bucket(owner.Key).TryGetValue(BucketKey(owner.Namespace, owner.Name), out var left)
            ? new DeleteResult(left, true)
            : new DeleteResult(current, false);
    }

    private IReadOnlyList<ObjectRef> Dependents(string ownerUid) =>
        _dependentsByOwnerUid.TryGetValue(ownerUid, out var dependents) ? dependents.ToArray() : [];

    /// <summary>Removes the foregroundDeletion finalizer of an owner none of whose dependents still blocks it (and the owner, if that was its last finalizer).</summary>
    private void FinishForeground(string ownerUid)
    {
        if (!_byUid.TryGetValue(ownerUid, out var ownerRef) || !Bucket(ownerRef.Key).TryGetValue(BucketKey(ownerRef.Namespace, ownerRef.Name), out var owner)) return;
        var node = owner.ToNode();
        var metadata = node["metadata"]!.AsObject();
        var finalizers = Finalizers(metadata);
        if (metadata["deletionTimestamp"] is null || !finalizers.Contains(ForegroundDeletion)) return;
        foreach (var dependent in Dependents(ownerUid))
        {
            if (!Bucket(dependent.Key).TryGetValue(BucketKey(dependent.Namespace, dependent.Name), out var stored)) continue;
            var blocks = stored.Root.GetProperty("metadata").TryGetProperty("ownerReferences", out var references)
                && references.EnumerateArray().Any(r => r.TryGetProperty("uid", out var uid) && uid.GetString() == ownerUid
                    && r.TryGetProperty("blockOwnerDeletion", out var block) && block.ValueKind == System.Text.Json.JsonValueKind.True);
            if (blocks) return;
        }
        finalizers.Remove(ForegroundDeletion);
        metadata["resourceVersion"] = (++_revision).ToString(CultureInfo.InvariantCulture);
        if (finalizers.Count == 0)
        {
            metadata.Remove("finalizers");
            Remove(ownerRef.Key, owner, node, PropagationPolicy.Background);
            return;
        }
        metadata["finalizers"] = new JsonArray(finalizers.Select(f => (JsonNode)f).ToArray());
        var updated = StoredObject.From(node);
        Put(ownerRef.Key, updated, owner, node);
        Publish(new StoreEvent(WatchEventType.Modified, ownerRef.Key, updated, owner));
    }

    private StoredObject Remove(StorageKey key, StoredObject current, JsonObject final, PropagationPolicy propagation)
    {
        var stored = StoredObject.From(final);
        Bucket(key).Remove(BucketKey(current.Namespace, current.Name));
        _byUid.Remove(current.Uid);
        UnindexOwners(new ObjectRef(key, current.Namespace, current.Name), current);
        Publish(new StoreEvent(WatchEventType.Deleted, key, stored, current));
        if (key == NamespacesKey) ForgetNamespace(current.Name);
        CollectDependents(current.Uid, propagation);
        if (current.Root.GetProperty("metadata").TryGetProperty("ownerReferences", out var owners) && owners.ValueKind == System.Text.Json.JsonValueKind.Array)
            foreach (var owner in owners.EnumerateArray())
                if (owner.TryGetProperty("uid", out var uid) && uid.GetString() is { } ownerUid) FinishForeground(ownerUid);
        return stored;
    }

    /// <summary>
    /// Garbage collection of dependents, done at once inside the owner's deletion rather than by a
    /// background collector: a dependent whose every owner is gone is deleted (honouring its own
    /// finalizers); one that still has a live owner only loses the dead reference.
    /// </summary>
    private void CollectDependents(string ownerUid, PropagationPolicy propagation)
    {
        if (!_dependentsByOwnerUid.Remove(ownerUid, out var dependents)) return;
        foreach (var dependent in dependents)
        {
            if (!Bucket(dependent.Key).TryGetValue(BucketKey(dependent.Namespace, dependent.Name), out var stored)) continue;
            var node = stored.ToNode();
            var references = node["metadata"]?["ownerReferences"] as JsonArray;
            var liveOwners = references?.Count(r => r?["uid"]?.GetValue<string>() is { } uid && uid != ownerUid && _byUid.ContainsKey(uid)) ?? 0;
            if (propagation == PropagationPolicy.Background && liveOwners == 0)
            {
                DeleteLocked(dependent.Key, stored, propagation);
                continue;
            }
            var kept = new JsonArray(references!.Where(r => r?["uid"]?.GetValue<string>() != ownerUid).Select(r => r!.DeepClone()).ToArray());
            if (kept.Count == 0) node["metadata"]!.AsObject().Remove("ownerReferences"); else node["metadata"]!["ownerReferences"] = kept;
            node["metadata"]!["resourceVersion"] = (++_revision).ToString(CultureInfo.InvariantCulture);
            var updated = StoredObject.From(node);
            Put(dependent.Key, updated, stored, node);
            Publish(new StoreEvent(WatchEventType.Modified, dependent.Key, updated, stored));
        }
    }

    /// <summary>Objects in a deleted namespace go with it.</summary>
    private void ForgetNamespace(string @namespace)
    {
        foreach (var (key, bucket) in _buckets.ToArray())
        {
            if (key == NamespacesKey) continue;
            foreach (var stored in bucket.Values.Where(o => o.Namespace == @namespace).ToArray())
            {
                var node = stored.ToNode();
                node["metadata"]!["resourceVersion"] = (++_revision).ToString(CultureInfo.InvariantCulture);
                Remove(key, stored, node, PropagationPolicy.Background);
            }
        }
    }

    private void Put(StorageKey key, StoredObject stored, StoredObject? previous, JsonObject node)
    {
        var reference = new ObjectRef(key, stored.Namespace, stored.Name);
        if (previous is not null) UnindexOwners(reference, previous);
        Bucket(key)[BucketKey(stored.Namespace, stored.Name)] = stored;
        _byUid[stored.Uid] = reference;
        if (node["metadata"]?["ownerReferences"] is JsonArray owners)
            foreach (var owner in owners)
                if (owner?["uid"]?.GetValue<string>() is { } uid)
                {
                    if (!_dependentsByOwnerUid.TryGetValue(uid, out var set)) _dependentsByOwnerUid[uid] = set = [];
                    set.Add(reference);
                }
    }

    private void UnindexOwners(ObjectRef reference, StoredObject stored)
    {
        if (!stored.Root.TryGetProperty("metadata", out var metadata) || !metadata.TryGetProperty("ownerReferences", out var owners)
            || owners.ValueKind != System.Text.Json.JsonValueKind.Array) return;
        foreach (var owner in owners.EnumerateArray())
            if (owner.ValueKind == System.Text.Json.JsonValueKind.Object && owner.TryGetProperty("uid", out var uidElement)
                && uidElement.GetString() is { } uid && _dependentsByOwnerUid.TryGetValue(uid, out var set))
            {
                set.Remove(reference);
                if (set.Count == 0) _dependentsByOwnerUid.Remove(uid);
            }
    }

    private void Publish(StoreEvent e)
    {
        _lastWrite[e.Key] = e.Object.Revision;
        _history.Enqueue(e);
        while (_history.Count > _historyLimit) _historyFloor = _history.Dequeue().Object.Revision;
        if (_watchers.TryGetValue(e.Key, out var watchers))
            foreach (var watcher in watchers.ToArray()) watcher.Offer(e);
    }

    /// <summary>
    /// Starts a watch. With no revision (or "0") it begins with a synthetic ADDED per current
    /// object; with a revision it replays the kept history after it, or fails with 410 Expired
    /// when that history is gone.
    /// </summary>
    public Watcher Watch(ResourceType type, string? @namespace, string? fromRevision)
    {
        lock (_lock)
        {
            IReadOnlyList<StoreEvent> initial;
            if (string.IsNullOrEmpty(fromRevision) || fromRevision == "0")
            {
                initial = Bucket(type.Key).Values
                    .Where(o => @namespace is null || o.Namespace == @namespace)
                    .Select(o => new StoreEvent(WatchEventType.Added, type.Key, o, null)).ToArray();
            }
            else
            {
                if (!long.TryParse(fromRevision, NumberStyles.None, CultureInfo.InvariantCulture, out var from))
                    throw ApiError.BadRequest($"invalid resource version \"{fromRevision}\" for a watch of {type.Key}");
                if (from < _historyFloor)
                    throw ApiError.Gone($"too old resource version: {from} ({_historyFloor + 1})");
                initial = _history.Where(e => e.Object.Revision > from && e.Key == type.Key && (@namespace is null || e.Object.Namespace == @namespace)).ToArray();
            }
            var watcher = new Watcher(type.Key, @namespace, initial, _watcherQueueLimit, Unregister);
            if (!_watchers.TryGetValue(type.Key, out var list)) _watchers[type.Key] = list = [];
            list.Add(watcher);
            return watcher;
        }
    }

    private void Unregister(Watcher watcher)
    {
        lock (_lock)
            if (_watchers.TryGetValue(watcher.Key, out var list)) list.Remove(watcher);
    }

    /// <summary>Forgets the event history: a watch from any earlier revision now gets 410 Gone.</summary>
    public void CompactHistory()
    {
        lock (_lock)
        {
            _history.Clear();
            _historyFloor = _revision;
        }
    }

    /// <summary>Ends every open watch, as an API server restart or a dropped connection would.</summary>
    public void BreakWatches()
    {
        lock (_lock)
            foreach (var watcher in _watchers.Values.SelectMany(l => l).ToArray()) watcher.Close();
    }

    public int WatcherCount { get { lock (_lock) return _watchers.Values.Sum(l => l.Count); } }

    /// <summary>Prunes, defaults and validates against the structural schema, then the CEL rules (which need well-typed data).</summary>
    private static void AdmitSchema(ResourceType type, JsonObject obj, JsonObject? before, string name, List<string>? warnings)
    {
        if (type.Schema is null) return;
        var causes = type.Schema.Admit(obj);
        if (causes.Count > 0) throw ApiError.Invalid(type, name, causes);
        if (type.Rules is null) return;
        var ratcheted = new List<string>();
        causes = type.Rules.Validate(obj, before, ratcheted);
        if (causes.Count > 0) throw ApiError.Invalid(type, name, causes);
        warnings?.AddRange(ratcheted);
    }

    private static JsonObject WithStatusOf(JsonObject before, JsonObject candidate)
    {
        var next = before.DeepClone().AsObject();
        next.Remove("status");
        if (candidate["status"] is { } status) next["status"] = status.DeepClone();
        return next;
    }

    /// <summary>Generation follows everything outside metadata, and outside status when status is its own subresource.</summary>
    private static bool SpecChanged(ResourceType type, JsonObject before, JsonObject next)
    {
        foreach (var (property, value) in next)
        {
            if (property == "metadata" || (type.HasStatus && property == "status")) continue;
            if (!JsonNode.DeepEquals(value, before[property])) return true;
        }
        foreach (var (property, _) in before)
        {
            if (property == "metadata" || (type.HasStatus && property == "status")) continue;
            if (!next.ContainsKey(property)) return true;
        }
        return false;
    }

    /// <summary>ObjectMeta's maps and lists are omitempty in Go: an empty one is never stored or shown.</summary>
    private static void DropEmptyMetadata(JsonObject metadata)
    {
        foreach (var field in new[] { "labels", "annotations", "finalizers", "ownerReferences" })
            if (metadata[field] is JsonObject { Count: 0 } or JsonArray { Count: 0 }) metadata.Remove(field);
    }

    private static List<string> Finalizers(JsonObject metadata) =>
        metadata["finalizers"] is JsonArray array ? array.Select(f => f?.GetValue<string>() ?? "").ToList() : [];

    private static bool FinalizersGrew(JsonObject before, JsonObject next)
    {
        var old = Finalizers(before).ToHashSet();
        return Finalizers(next).Any(f => !old.Contains(f));
    }

    private static void ValidateName(ResourceType type, string name)
    {
        if (type.Names == NameRule.PathSegment)
        {
            if (name is "." or ".." || name.Contains('/') || name.Contains('%'))
                throw ApiError.Invalid(type, name, [new StatusCause("FieldValueInvalid",
                    $"Invalid value: \"{name}\": may not {(name is "." or ".." ? $"be '{name}'" : name.Contains('/') ? "contain '/'" : "contain '%'")}", "metadata.name")]);
            return;
        }
        if (type.Names == NameRule.DnsLabel && (name.Length > 63 || name.Contains('.') || !DnsSubdomain().IsMatch(name)))
            throw ApiError.Invalid(type, name, [new StatusCause("FieldValueInvalid",
                $"Invalid value: \"{name}\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')", "metadata.name")]);
        if (name.Length > 253 || !DnsSubdomain().IsMatch(name))
            throw ApiError.Invalid(type, name, [new StatusCause("FieldValueInvalid",
                $"Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character", "metadata.name")]);
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex DnsSubdomain();

    public static string Rfc3339(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string RandomSuffix()
    {
        const string alphabet = "bcdfghjklmnpqrstvwxz2456789";
        return string.Create(5, 0, (span, _) => { for (var i = 0; i < span.Length; i++) span[i] = alphabet[Random.Shared.Next(alphabet.Length)]; });
    }

    /// <summary>Where a paged list goes on: after <paramref name="LastKey"/>, in the snapshot at <paramref name="Revision"/>.</summary>
    private sealed record ContinueFrom(string LastKey, long Revision);

    private static string EncodeContinue(ContinueFrom from) =>
        Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(new JsonObject { ["start"] = from.LastKey, ["rv"] = from.Revision }.ToJsonString()));

    private static ContinueFrom DecodeContinue(string token)
    {
        try
        {
            var node = JsonNode.Parse(System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(token)));
            return new ContinueFrom(node?["start"]?.GetValue<string>() ?? throw new FormatException(),
                node["rv"]?.GetValue<long>() ?? throw new FormatException());
        }
        catch (Exception e) when (e is FormatException or System.Text.Json.JsonException or InvalidOperationException)
        {
            throw ApiError.BadRequest($"continue key \"{token}\" is not valid");
        }
    }
}
