using System.Text.Json;
using System.Text.Json.Nodes;
using Trellis.ApiServer.Storage;

namespace Trellis.ApiServer.Tests.Storage;

public sealed class ObjectStoreTests
{
    private static readonly ResourceType Things = new()
    {
        Group = "test.trellis.io", Version = "v1", Plural = "things", Singular = "thing", Kind = "Thing", Namespaced = false, HasStatus = true,
    };

    private static readonly ResourceType Plain = new()
    {
        Group = "test.trellis.io", Version = "v1", Plural = "plains", Singular = "plain", Kind = "Plain", Namespaced = false,
    };

    private static readonly ResourceType Scoped = new()
    {
        Group = "test.trellis.io", Version = "v1", Plural = "scopeds", Singular = "scoped", Kind = "Scoped", Namespaced = true,
    };

    private static ObjectStore NewStore(int history = 100, int queue = 100)
    {
        var store = new ObjectStore(history, queue);
        foreach (var ns in new[] { "default", "other" })
            store.Create(BuiltInResources.Namespaces, null, Obj(BuiltInResources.Namespaces, ns));
        return store;
    }

    private static JsonObject Obj(ResourceType type, string name, string spec = "{}", string extraMetadata = "") =>
        JsonNode.Parse($$"""{"apiVersion":"{{type.ApiVersion}}","kind":"{{type.Kind}}","metadata":{"name":"{{name}}"{{extraMetadata}}},"spec":{{spec}}}""")!.AsObject();

    private static string Meta(StoredObject o, string field) => o.Root.GetProperty("metadata").GetProperty(field).ToString();

    private static long Generation(StoredObject o) => o.Root.GetProperty("metadata").GetProperty("generation").GetInt64();

    [Fact]
    public void CreateAssignsServerOwnedMetadataAndIncreasingRevisions()
    {
        var store = NewStore();
        var a = store.Create(Things, null, Obj(Things, "a", extraMetadata: ""","uid":"mine","resourceVersion":"999","deletionTimestamp":"2020-01-01T00:00:00Z" """));
        var b = store.Create(Things, null, Obj(Things, "b"));
        Assert.NotEqual("mine", a.Uid);
        Assert.True(Guid.TryParse(a.Uid, out _));
        Assert.True(b.Revision > a.Revision);
        Assert.Equal(a.Revision.ToString(), Meta(a, "resourceVersion"));
        Assert.Equal(1, Generation(a));
        Assert.False(a.Root.GetProperty("metadata").TryGetProperty("deletionTimestamp", out _));
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", Meta(a, "creationTimestamp"));
        Assert.Equal(b.Revision, store.CurrentRevision);
    }

    [Fact]
    public void CreateRefusesDuplicatesBadNamesAndMissingNamespaces()
    {
        var store = NewStore();
        store.Create(Things, null, Obj(Things, "a"));
        Assert.Equal(409, Assert.Throws<ApiError>(() => store.Create(Things, null, Obj(Things, "a"))).Code);
        Assert.Equal(422, Assert.Throws<ApiError>(() => store.Create(Things, null, Obj(Things, "UPPER"))).Code);
        Assert.Equal(422, Assert.Throws<ApiError>(() => store.Create(Things, null, Obj(Things, ""))).Code);
        var missing = Assert.Throws<ApiError>(() => store.Create(Scoped, "nowhere", Obj(Scoped, "s")));
        Assert.Equal(404, missing.Code);
        Assert.Contains("nowhere", missing.Message);
        var revision = store.CurrentRevision;
        Assert.Throws<ApiError>(() => store.Create(Things, null, Obj(Things, "a")));
        Assert.Equal(revision, store.CurrentRevision);
    }

    [Fact]
    public void GenerateNameAddsASuffix()
    {
        var store = NewStore();
        var created = store.Create(Things, null, JsonNode.Parse("""{"metadata":{"generateName":"thing-"}}""")!.AsObject());
        Assert.Matches("^thing-[a-z0-9]{5}$", created.Name);
    }

    [Fact]
    public void GenerationFollowsSpecButNotMetadataOrStatusSubresource()
    {
        var store = NewStore();
        store.Create(Things, null, Obj(Things, "a", """{"x":1}"""));
        var labelled = store.Update(Things, null, "a", o => { o["metadata"]!["labels"] = new JsonObject { ["k"] = "v" }; return o; });
        Assert.Equal(1, Generation(labelled));
        var respecced = store.Update(Things, null, "a", o => { o["spec"]!["x"] = 2; return o; });
        Assert.Equal(2, Generation(respecced));
        var statused = store.Update(Things, null, "a", o => { o["status"] = new JsonObject { ["ok"] = true }; return o; }, UpdateScope.Status);
        Assert.Equal(2, Generation(statused));
        var newTopLevel = store.Update(Things, null, "a", o => { o["data"] = 1; return o; });
        Assert.Equal(3, Generation(newTopLevel));
        var removedTopLevel = store.Update(Things, null, "a", o => { o.Remove("data"); return o; });
        Assert.Equal(4, Generation(removedTopLevel));

        store.Create(Plain, null, Obj(Plain, "p"));
        var plainStatus = store.Update(Plain, null, "p", o => { o["status"] = new JsonObject { ["ok"] = true }; return o; });
        Assert.Equal(2, Generation(plainStatus));
    }

    [Fact]
    public void NoOpUpdateKeepsRevisionAndSendsNoEvent()
    {
        var store = NewStore();
        var created = store.Create(Things, null, Obj(Things, "a"));
        using var watcher = store.Watch(Things, null, created.Revision.ToString());
        var same = store.Update(Things, null, "a", o => o);
        Assert.Same(created, same);
        Assert.Equal(created.Revision, store.CurrentRevision);
        Assert.False(watcher.Events.TryRead(out _));
    }

    [Fact]
    public void StatusScopeChangesOnlyStatusAndMainScopeKeepsIt()
    {
        var store = NewStore();
        store.Create(Things, null, Obj(Things, "a", """{"x":1}"""));
        var viaStatus = store.Update(Things, null, "a", o =>
        {
            o["spec"]!["x"] = 9;
            o["metadata"]!["labels"] = new JsonObject { ["k"] = "v" };
            o["status"] = new JsonObject { ["phase"] = "Ready" };
            return o;
        }, UpdateScope.Status);
        Assert.Equal(1, viaStatus.Root.GetProperty("spec").GetProperty("x").GetInt32());
        Assert.False(viaStatus.Root.GetProperty("metadata").TryGetProperty("labels", out _));
        Assert.Equal("Ready", viaStatus.Root.GetProperty("status").GetProperty("phase").GetString());

        var viaMain = store.Update(Things, null, "a", o => { o.Remove("status"); o["spec"]!["x"] = 2; return o; });
        Assert.Equal("Ready", viaMain.Root.GetProperty("status").GetProperty("phase").GetString());
        Assert.Equal(2, viaMain.Root.GetProperty("spec").GetProperty("x").GetInt32());
    }

    [Fact]
    public void ResourceVersionIsAPreconditionAndServerFieldsAreKept()
    {
        var store = NewStore();
        var created = store.Create(Things, null, Obj(Things, "a"));
        var stale = Assert.Throws<ApiError>(() => store.Update(Things, null, "a", o => { o["metadata"]!["resourceVersion"] = "1"; o["spec"]!["x"] = 1; return o; }));
        Assert.Equal(409, stale.Code);
        Assert.Equal("Conflict", stale.Reason);
        var required = Assert.Throws<ApiError>(() => store.Update(Things, null, "a", o => { o["metadata"]!.AsObject().Remove("resourceVersion"); return o; }, requireResourceVersion: true));
        Assert.Equal(422, required.Code);
        var unconditional = store.Update(Things, null, "a", o =>
        {
            o["metadata"]!.AsObject().Remove("resourceVersion");
            o["metadata"]!["uid"] = "forged";
            o["metadata"]!["creationTimestamp"] = "2000-01-01T00:00:00Z";
            o["spec"]!["x"] = 1;
            return o;
        });
        Assert.Equal(created.Uid, unconditional.Uid);
        Assert.Equal(Meta(created, "creationTimestamp"), Meta(unconditional, "creationTimestamp"));
        Assert.Equal(404, Assert.Throws<ApiError>(() => store.Update(Things, null, "missing", o => o)).Code);
    }

    [Fact]
    public void FinalizersDeferDeletion()
    {
        var store = NewStore();
        var created = store.Create(Things, null, Obj(Things, "a", extraMetadata: ""","finalizers":["x/y"]"""));
        using var watcher = store.Watch(Things, null, created.Revision.ToString());
        var pending = store.Delete(Things, null, "a");
        Assert.True(pending.Pending);
        Assert.Equal(2, Generation(pending.Object));
        Assert.Equal("0", Meta(pending.Object, "deletionGracePeriodSeconds"));
        var deletionTimestamp = Meta(pending.Object, "deletionTimestamp");
        Assert.Same(pending.Object, store.Delete(Things, null, "a").Object);
        var grow = Assert.Throws<ApiError>(() => store.Update(Things, null, "a", o => { o["metadata"]!["finalizers"] = new JsonArray("x/y", "z/w"); return o; }));
        Assert.Equal(422, grow.Code);

        var removed = store.Update(Things, null, "a", o => { o["metadata"]!.AsObject().Remove("finalizers"); o["metadata"]!["deletionTimestamp"] = "2000-01-01T00:00:00Z"; return o; });
        Assert.Equal(deletionTimestamp, Meta(removed, "deletionTimestamp"));
        Assert.Equal(404, Assert.Throws<ApiError>(() => store.Get(Things, null, "a")).Code);
        Assert.True(watcher.Events.TryRead(out var modified));
        Assert.Equal(WatchEventType.Modified, modified.Type);
        Assert.True(watcher.Events.TryRead(out var deleted));
        Assert.Equal(WatchEventType.Deleted, deleted.Type);
        Assert.Equal(store.CurrentRevision, deleted.Object.Revision);
    }

    [Fact]
    public void DeletePreconditions()
    {
        var store = NewStore();
        var created = store.Create(Things, null, Obj(Things, "a"));
        Assert.Equal(409, Assert.Throws<ApiError>(() => store.Delete(Things, null, "a", expectedUid: "other")).Code);
        Assert.Equal(409, Assert.Throws<ApiError>(() => store.Delete(Things, null, "a", expectedResourceVersion: "1")).Code);
        var deleted = store.Delete(Things, null, "a", created.Uid, created.Revision.ToString());
        Assert.False(deleted.Pending);
        Assert.True(deleted.Object.Revision > created.Revision);
        Assert.Equal(404, Assert.Throws<ApiError>(() => store.Delete(Things, null, "a")).Code);
    }

    private static string Owned(StoredObject owner, params StoredObject[] more) =>
        $$""","ownerReferences":[{{string.Join(",", new[] { owner }.Concat(more).Select(o => $$"""{"apiVersion":"v1","kind":"X","name":"{{o.Name}}","uid":"{{o.Uid}}"}"""))}}]""";

    [Fact]
    public void GarbageCollectionFollowsOwnerChainsAndSparesObjectsWithALiveOwner()
    {
        var store = NewStore();
        var root = store.Create(Things, null, Obj(Things, "root"));
        var other = store.Create(Things, null, Obj(Things, "other"));
        var child = store.Create(Things, null, Obj(Things, "child", extraMetadata: Owned(root)));
        store.Create(Scoped, "default", Obj(Scoped, "grandchild", extraMetadata: Owned(child)));
        store.Create(Things, null, Obj(Things, "shared", extraMetadata: Owned(root, other)));
        store.Create(Things, null, Obj(Things, "held", extraMetadata: Owned(root) + ""","finalizers":["keep"]"""));

        store.Delete(Things, null, "root");
        Assert.Equal(404, Assert.Throws<ApiError>(() => store.Get(Things, null, "child")).Code);
        Assert.Empty(store.List(Scoped, null).Items);
        var shared = store.Get(Things, null, "shared");
        var references = shared.Root.GetProperty("metadata").GetProperty("ownerReferences");
        Assert.Equal(other.Uid, Assert.Single(references.EnumerateArray()).GetProperty("uid").GetString());
        Assert.True(store.Get(Things, null, "held").Root.GetProperty("metadata").TryGetProperty("deletionTimestamp", out _));
    }

    [Fact]
    public void OrphanPropagationKeepsDependents()
    {
        var store = NewStore();
        var root = store.Create(Things, null, Obj(Things, "root"));
        store.Create(Things, null, Obj(Things, "child", extraMetadata: Owned(root)));
        store.Delete(Things, null, "root", propagation: PropagationPolicy.Orphan);
        var child = store.Get(Things, null, "child");
        Assert.False(child.Root.GetProperty("metadata").TryGetProperty("ownerReferences", out _));
    }

    [Fact]
    public void DeletingANamespaceDeletesItsObjects()
    {
        var store = NewStore();
        store.Create(Scoped, "other", Obj(Scoped, "gone"));
        store.Create(Scoped, "default", Obj(Scoped, "kept"));
        store.Delete(BuiltInResources.Namespaces, null, "other");
        Assert.Equal(["kept"], store.List(Scoped, null).Items.Select(i => i.Name).ToArray());
    }

    [Fact]
    public void ListsPageInNameOrderAndFilter()
    {
        var store = NewStore();
        foreach (var name in new[] { "c", "a", "e", "b", "d" }) store.Create(Scoped, name is "e" ? "other" : "default", Obj(Scoped, name));
        var first = store.List(Scoped, "default", limit: 2);
        Assert.Equal(["a", "b"], first.Items.Select(i => i.Name).ToArray());
        var second = store.List(Scoped, "default", limit: 2, continueToken: first.Continue);
        Assert.Equal(["c", "d"], second.Items.Select(i => i.Name).ToArray());
        Assert.Null(second.Continue);
        Assert.Equal(["a", "b", "c", "d", "e"], store.List(Scoped, null).Items.Select(i => i.Name).ToArray());
        Assert.Equal(["b"], store.List(Scoped, null, o => o.Name == "b").Items.Select(i => i.Name).ToArray());
        Assert.Equal(400, Assert.Throws<ApiError>(() => store.List(Scoped, null, continueToken: "%%%")).Code);
    }

    [Fact]
    public void EveryPageOfAListComesFromTheSnapshotOfItsFirst()
    {
        var store = NewStore();
        foreach (var name in new[] { "a", "b", "c", "d", "e" }) store.Create(Scoped, "default", Obj(Scoped, name, spec: """{"v":1}"""));
        var first = store.List(Scoped, "default", limit: 2);
        Assert.Equal(["a", "b"], first.Items.Select(i => i.Name).ToArray());

        // Between the pages: one listed object and one still to come change, one still to come goes, one after it comes.
        store.Update(Scoped, "default", "a", o => { o["spec"]!["v"] = 2; return o; });
        store.Update(Scoped, "default", "c", o => { o["spec"]!["v"] = 2; return o; });
        store.Delete(Scoped, "default", "d");
        store.Create(Scoped, "default", Obj(Scoped, "f", spec: """{"v":2}"""));
        store.Create(Scoped, "default", Obj(Scoped, "bb", spec: """{"v":2}"""));

        var second = store.List(Scoped, "default", limit: 2, continueToken: first.Continue);
        var third = store.List(Scoped, "default", limit: 2, continueToken: second.Continue);
        var pages = second.Items.Concat(third.Items).ToList();
        Assert.Equal(["c", "d", "e"], pages.Select(i => i.Name).ToArray());
        Assert.All(pages, i => Assert.Equal(1, i.Root.GetProperty("spec").GetProperty("v").GetInt32()));
        Assert.Equal(first.Revision, second.Revision);
        Assert.Equal(first.Revision, third.Revision);
        Assert.Null(third.Continue);

        var now = store.List(Scoped, "default");
        Assert.Equal(["a", "b", "bb", "c", "e", "f"], now.Items.Select(i => i.Name).ToArray());
        Assert.Equal(store.CurrentRevision, now.Revision);
    }

    [Fact]
    public void APageWhoseSnapshotIsNoLongerKeptIsGone()
    {
        var store = NewStore(history: 3);
        foreach (var name in new[] { "a", "b", "c" }) store.Create(Scoped, "default", Obj(Scoped, name));
        var first = store.List(Scoped, "default", limit: 1);
        // Unchanged since: the snapshot is the present, whatever the history holds.
        Assert.Equal(["b"], store.List(Scoped, "default", limit: 1, continueToken: first.Continue).Items.Select(i => i.Name).ToArray());

        foreach (var name in new[] { "x", "y", "z", "w" }) store.Create(Things, null, Obj(Things, name));
        Assert.Equal(410, Assert.Throws<ApiError>(() => store.List(Scoped, "default", limit: 1, continueToken: first.Continue)).Code);
        var again = store.List(Scoped, "default", limit: 1);
        Assert.Equal(["b"], store.List(Scoped, "default", limit: 1, continueToken: again.Continue).Items.Select(i => i.Name).ToArray());
    }

    [Fact]
    public void WatchFromNothingListsThenGoesLive()
    {
        var store = NewStore();
        store.Create(Scoped, "default", Obj(Scoped, "a"));
        store.Create(Scoped, "other", Obj(Scoped, "b"));
        using var all = store.Watch(Scoped, null, "0");
        using var onlyDefault = store.Watch(Scoped, "default", null);
        Assert.Equal(["a", "b"], all.Initial.Select(e => e.Object.Name).ToArray());
        Assert.Equal(["a"], onlyDefault.Initial.Select(e => e.Object.Name).ToArray());
        store.Create(Scoped, "other", Obj(Scoped, "c"));
        Assert.True(all.Events.TryRead(out var live));
        Assert.Equal("c", live.Object.Name);
        Assert.False(onlyDefault.Events.TryRead(out _));
    }

    [Fact]
    public void WatchFromARevisionReplaysWhatFollowedIt()
    {
        var store = NewStore();
        var a = store.Create(Things, null, Obj(Things, "a"));
        store.Create(Things, null, Obj(Things, "b"));
        store.Create(Plain, null, Obj(Plain, "unrelated"));
        store.Update(Things, null, "a", o => { o["spec"]!["x"] = 1; return o; });
        using var watcher = store.Watch(Things, null, a.Revision.ToString());
        Assert.Equal(["Added b", "Modified a"], watcher.Initial.Select(e => $"{e.Type} {e.Object.Name}").ToArray());
        Assert.Equal("a", watcher.Initial[1].Previous!.Name);
    }

    [Fact]
    public void CompactedOrOverflowedHistoryIsGone()
    {
        var store = NewStore(history: 3);
        var first = store.Create(Things, null, Obj(Things, "a"));
        store.Watch(Things, null, first.Revision.ToString()).Dispose();
        for (var i = 0; i < 3; i++) store.Create(Things, null, Obj(Things, $"n{i}"));
        store.Watch(Things, null, first.Revision.ToString()).Dispose();
        store.Create(Things, null, Obj(Things, "one-too-many"));
        var gone = Assert.Throws<ApiError>(() => store.Watch(Things, null, first.Revision.ToString()));
        Assert.Equal(410, gone.Code);
        Assert.Equal("Expired", gone.Reason);
        Assert.Matches(@"^too old resource version: \d+ \(\d+\)$", gone.Message);

        var now = store.CurrentRevision;
        store.Watch(Things, null, (now - 1).ToString()).Dispose();
        store.CompactHistory();
        Assert.Equal(410, Assert.Throws<ApiError>(() => store.Watch(Things, null, (now - 1).ToString())).Code);
        using var fromNow = store.Watch(Things, null, now.ToString());
        Assert.Empty(fromNow.Initial);
        Assert.Equal(400, Assert.Throws<ApiError>(() => store.Watch(Things, null, "abc")).Code);
    }

    [Fact]
    public void SlowWatcherIsClosedNotGrown()
    {
        var store = NewStore(queue: 2);
        using var slow = store.Watch(Things, null, null);
        for (var i = 0; i < 5; i++) store.Create(Things, null, Obj(Things, $"n{i}"));
        Assert.True(slow.Overflowed);
        var drained = 0;
        while (slow.Events.TryRead(out _)) drained++;
        Assert.Equal(2, drained);
        Assert.True(slow.Events.Completion.IsCompleted);
    }

    [Fact]
    public void BreakWatchesCompletesEveryWatcherAndDisposeUnregisters()
    {
        var store = NewStore();
        var a = store.Watch(Things, null, null);
        var b = store.Watch(Plain, null, null);
        Assert.Equal(2, store.WatcherCount);
        store.BreakWatches();
        Assert.True(a.Events.Completion.IsCompleted);
        Assert.True(b.Events.Completion.IsCompleted);
        Assert.False(a.Overflowed);
        a.Dispose();
        b.Dispose();
        Assert.Equal(0, store.WatcherCount);
    }

    [Fact]
    public void SchemaIsAppliedOnCreateAndUpdate()
    {
        var schema = Trellis.ApiServer.Schema.StructuralSchema.Parse(JsonNode.Parse("""
            {"type":"object","properties":{"spec":{"type":"object","properties":{"size":{"type":"integer","default":1,"maximum":5}}}}}
            """)!.AsObject());
        var sized = Things with { Schema = schema };
        var store = NewStore();
        var created = store.Create(sized, null, Obj(sized, "a", """{"junk":true}"""));
        Assert.Equal("""{"size":1}""", created.Root.GetProperty("spec").GetRawText());
        var refused = Assert.Throws<ApiError>(() => store.Update(sized, null, "a", o => { o["spec"]!["size"] = 6; return o; }));
        Assert.Equal(422, refused.Code);
        Assert.Equal("spec.size", Assert.Single(refused.Causes).Field);
        Assert.Contains("Thing.test.trellis.io \"a\" is invalid", refused.Message);
    }

    private static StoreEvent Event(WatchEventType type, string labelNow, string? labelBefore)
    {
        StoredObject Make(string label) => new("", "o", "u", 1, JsonSerializer.SerializeToUtf8Bytes(new JsonObject { ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["zone"] = label } } }));
        return new StoreEvent(type, Things.Key, Make(labelNow), labelBefore is null ? null : Make(labelBefore));
    }

    [Theory]
    [InlineData(WatchEventType.Added, "east", null, "ADDED")]
    [InlineData(WatchEventType.Added, "west", null, null)]
    [InlineData(WatchEventType.Modified, "east", "east", "MODIFIED")]
    [InlineData(WatchEventType.Modified, "east", "west", "ADDED")]
    [InlineData(WatchEventType.Modified, "west", "east", "DELETED")]
    [InlineData(WatchEventType.Modified, "west", "west", null)]
    [InlineData(WatchEventType.Deleted, "east", "east", "DELETED")]
    [InlineData(WatchEventType.Deleted, "west", "west", null)]
    public void SelectorWatchesTranslateEvents(WatchEventType type, string now, string? before, string? expected)
    {
        var selector = Trellis.ApiServer.Selectors.LabelSelector.Parse("zone=east");
        Assert.Equal(expected, WatchTranslation.Translate(Event(type, now, before), selector.Matches));
        Assert.Equal(WatchTranslation.Name(type), WatchTranslation.Translate(Event(type, now, before), null));
    }

    [Fact]
    public async Task ConcurrentOptimisticUpdatesLoseNothingAndWatchersSeeRevisionsInOrder()
    {
        var store = NewStore(history: 10_000, queue: 10_000);
        store.Create(Plain, null, Obj(Plain, "counter", """{"n":0}"""));
        using var watcher = store.Watch(Plain, null, store.CurrentRevision.ToString());
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 200; i++)
                while (true)
                {
                    var current = store.Get(Plain, null, "counter");
                    var next = current.ToNode();
                    next["spec"]!["n"] = next["spec"]!["n"]!.GetValue<int>() + 1;
                    try
                    {
                        store.Update(Plain, null, "counter", _ => next.DeepClone().AsObject());
                        break;
                    }
                    catch (ApiError e) when (e.Code == 409)
                    {
                        // Another writer won this revision: read again and retry, as a controller does.
                    }
                }
        })));
        Assert.Equal(800, store.Get(Plain, null, "counter").Root.GetProperty("spec").GetProperty("n").GetInt32());
        var revisions = new List<long>();
        while (watcher.Events.TryRead(out var e)) revisions.Add(e.Object.Revision);
        Assert.Equal(800, revisions.Count);
        Assert.Equal(revisions.Order(), revisions);
        Assert.Equal(revisions.Count, revisions.Distinct().Count());
    }
}
