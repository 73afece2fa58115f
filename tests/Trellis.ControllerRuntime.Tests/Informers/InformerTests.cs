using System.Collections.Concurrent;
using k8s;
using k8s.Models;
using Trellis.ControllerRuntime.Clients;
using Trellis.ControllerRuntime.Informers;
using Trellis.ControllerRuntime.Tests.Cluster;
using Xunit;

namespace Trellis.ControllerRuntime.Tests.Informers;

public sealed class InformerTests
{
    /// <summary>Records every delivered change as "add:name", "update:name", "delete:name", in delivery order.</summary>
    private sealed class Changes<T> where T : class, IKubernetesObject<V1ObjectMeta>
    {
        public readonly ConcurrentQueue<string> Seen = new();
        public int Concurrent;
        public int MaxConcurrent;

        public Changes(Informer<T> informer)
        {
            informer.Added += o => Record($"add:{o.Metadata.Name}");
            informer.Updated += (old, now) =>
            {
                Assert.Equal(old.Metadata.Name, now.Metadata.Name);
                Record($"update:{now.Metadata.Name}");
            };
            informer.Deleted += o => Record($"delete:{o.Metadata.Name}");
        }

        private void Record(string change)
        {
            var now = Interlocked.Increment(ref Concurrent);
            MaxConcurrent = Math.Max(MaxConcurrent, now);
            Seen.Enqueue(change);
            Interlocked.Decrement(ref Concurrent);
        }

        public string[] Drain()
        {
            var all = new List<string>();
            while (Seen.TryDequeue(out var change))
                all.Add(change);
            return all.ToArray();
        }
    }

    /// <summary>Proves the informer's watch is open on the server: a node created now can only reach it through that watch.</summary>
    private static async Task WatchIsLive(TestCluster cluster, Informer<V1Node> informer, string probe)
    {
        await cluster.CreateNodeAsync(probe);
        await TestCluster.Eventually(() => informer.Get(probe) is not null, $"probe {probe} arrives through the watch");
    }

    private static async Task Stop(CancellationTokenSource stop, Task run)
    {
        stop.Cancel();
        await run.WaitAsync(TestCluster.Patience);
    }

    [Fact]
    public async Task SyncsThenFollowsAddsUpdatesAndDeletes()
    {
        await using var cluster = await TestCluster.StartAsync();
        await cluster.CreateNodeAsync("node-a");
        await cluster.CreateNodeAsync("node-b");
        var informer = new Informer<V1Node>(ResourceClients.Nodes(cluster.Api));
        var changes = new Changes<V1Node>(informer);
        Assert.False(informer.HasSynced);
        using var stop = new CancellationTokenSource();
        var run = informer.RunAsync(stop.Token);

        await informer.WaitForSyncAsync(CancellationToken.None).WaitAsync(TestCluster.Patience);
        Assert.True(informer.HasSynced);
        Assert.Equal(2, informer.Count);
        Assert.Equal(new[] { "add:node-a", "add:node-b" }, changes.Drain().Order());

        await cluster.CreateNodeAsync("node-c");
        await cluster.LabelNodeAsync("node-a", "zone", "east");
        await cluster.Client.CoreV1.DeleteNodeAsync("node-b");
        await TestCluster.Eventually(() => changes.Seen.Count == 3, "three changes arrive");
        Assert.Equal(new[] { "add:node-c", "update:node-a", "delete:node-b" }, changes.Drain());

        Assert.Equal("east", informer.Get("node-a")!.Metadata.Labels["zone"]);
        Assert.Null(informer.Get("node-b"));
        Assert.NotNull(informer.Get(new ObjectKey(null, "node-c")));
        Assert.Equal(new[] { "node-a", "node-c" }, informer.List().Select(n => n.Metadata.Name).Order());
        Assert.Equal(1, informer.ListCount);
        Assert.Equal(1, changes.MaxConcurrent);
        await Stop(stop, run);
    }

    [Fact]
    public async Task LabelSelectorLimitsWhatIsCached()
    {
        await using var cluster = await TestCluster.StartAsync();
        await cluster.CreateNodeAsync("worker", new Dictionary<string, string> { ["role"] = "worker" });
        await cluster.CreateNodeAsync("control", new Dictionary<string, string> { ["role"] = "control" });
        var informer = new Informer<V1Node>(ResourceClients.Nodes(cluster.Api, labelSelector: "role=worker"));
        using var stop = new CancellationTokenSource();
        var run = informer.RunAsync(stop.Token);
        await informer.WaitForSyncAsync(CancellationToken.None).WaitAsync(TestCluster.Patience);
        Assert.Equal(new[] { "worker" }, informer.List().Select(n => n.Metadata.Name));

        await cluster.CreateNodeAsync("worker-2", new Dictionary<string, string> { ["role"] = "worker" });
        await cluster.CreateNodeAsync("control-2", new Dictionary<string, string> { ["role"] = "control" });
        await TestCluster.Eventually(() => informer.Get("worker-2") is not null, "worker-2 is cached");
        Assert.Null(informer.Get("control-2"));
        await Stop(stop, run);
    }

    [Fact]
    public async Task ResumesAfterBrokenWatchWithoutListing()
    {
        await using var cluster = await TestCluster.StartAsync();
        await cluster.CreateNodeAsync("node-a");
        var informer = new Informer<V1Node>(ResourceClients.Nodes(cluster.Api));
        var changes = new Changes<V1Node>(informer);
        using var stop = new CancellationTokenSource();
        var run = informer.RunAsync(stop.Token);
        await informer.WaitForSyncAsync(CancellationToken.None).WaitAsync(TestCluster.Patience);
        changes.Drain();

        for (var round = 1; round <= 3; round++)
        {
            await WatchIsLive(cluster, informer, $"probe-{round}");
            changes.Drain();
            var watchesBefore = informer.WatchCount;
            cluster.Server.BreakWatches();
            await cluster.CreateNodeAsync($"node-{round}");
            await TestCluster.Eventually(() => informer.Get($"node-{round}") is not null, $"node-{round} arrives after break {round}");
            Assert.True(informer.WatchCount > watchesBefore, "the informer opened a new watch");
            Assert.Equal(new[] { $"add:node-{round}" }, changes.Drain());
        }

        Assert.Equal(1, informer.ListCount);
        Assert.Equal(1, cluster.Server.Metrics.Requests("list", "nodes"));
        await Stop(stop, run);
    }

    [Fact]
    public async Task RelistsAfterHistoryIsCompactedAndDeliversOnlyTheDifference()
    {
        await using var cluster = await TestCluster.StartAsync();
        foreach (var name in new[] { "stays", "changes", "goes" })
            await cluster.CreateNodeAsync(name);
        var source = new GatedListWatch<V1Node>(ResourceClients.Nodes(cluster.Api));
        var informer = new Informer<V1Node>(source);
        var changes = new Changes<V1Node>(informer);
        using var stop = new CancellationTokenSource();
        var run = informer.RunAsync(stop.Token);
        await informer.WaitForSyncAsync(CancellationToken.None).WaitAsync(TestCluster.Patience);
        await WatchIsLive(cluster, informer, "probe");
        changes.Drain();

        // While the informer is between watches, change the world and let the server forget how.
        source.Close();
        cluster.Server.BreakWatches();
        await cluster.Client.CoreV1.DeleteNodeAsync("goes");
        await cluster.LabelNodeAsync("changes", "zone", "west");
        await cluster.CreateNodeAsync("arrives");
        cluster.Server.CompactHistory();
        source.Open();

        await TestCluster.Eventually(() => informer.ListCount == 2, "the informer lists again after 410 Gone");
        await TestCluster.Eventually(() => changes.Seen.Count >= 3, "the differences are delivered");
        await Task.Delay(200);
        Assert.Equal(new[] { "add:arrives", "delete:goes", "update:changes" }, changes.Drain().Order());
        Assert.Equal(new[] { "arrives", "changes", "probe", "stays" }, informer.List().Select(n => n.Metadata.Name).Order());
        Assert.Equal("west", informer.Get("changes")!.Metadata.Labels["zone"]);

        // And it watches again from the new list.
        await cluster.CreateNodeAsync("later");
        await TestCluster.Eventually(() => informer.Get("later") is not null, "a change after the relist arrives");
        Assert.Equal(2, informer.ListCount);
        await Stop(stop, run);
    }

    [Fact]
    public async Task BookmarksAdvanceTheResourceVersionSoAResumeNeedsNoRelist()
    {
        await using var cluster = await TestCluster.StartAsync(bookmarkInterval: TimeSpan.FromMilliseconds(200));
        await cluster.CreateNodeAsync("node-a");
        await cluster.RegisterWidgetsAsync();
        var source = new GatedListWatch<V1Node>(ResourceClients.Nodes(cluster.Api));
        var informer = new Informer<V1Node>(source);
        var changes = new Changes<V1Node>(informer);
        using var stop = new CancellationTokenSource();
        var run = informer.RunAsync(stop.Token);
        await informer.WaitForSyncAsync(CancellationToken.None).WaitAsync(TestCluster.Patience);
        await WatchIsLive(cluster, informer, "probe");
        changes.Drain();
        var listed = long.Parse(informer.LastResourceVersion!);

        // Writes to another resource move the server's revision; only a bookmark can tell the node informer.
        var widget = await cluster.CreateWidgetAsync("w1", 3);
        var widgetVersion = long.Parse(widget.Metadata.ResourceVersion);
        Assert.True(widgetVersion > listed);
        await TestCluster.Eventually(() => long.Parse(informer.LastResourceVersion!) >= widgetVersion, "a bookmark advances the resource version");
        Assert.Empty(changes.Drain());

        // Compaction now forgets everything before the widget; the informer resumes from the bookmark, not from its list.
        source.Close();
        cluster.Server.BreakWatches();
        cluster.Server.CompactHistory();
        source.Open();
        await cluster.CreateNodeAsync("node-b");
        await TestCluster.Eventually(() => informer.Get("node-b") is not null, "node-b arrives");
        Assert.Equal(1, informer.ListCount);
        Assert.Equal(new[] { "add:node-b" }, changes.Drain());
        await Stop(stop, run);
    }

    [Fact]
    public async Task WatchesACustomResource()
    {
        await using var cluster = await TestCluster.StartAsync();
        await cluster.RegisterWidgetsAsync();
        await cluster.CreateWidgetAsync("small", 1);
        var informer = new Informer<Widget>(ResourceClients.ClusterCustom<Widget>(cluster.Api));
        var changes = new Changes<Widget>(informer);
        using var stop = new CancellationTokenSource();
        var run = informer.RunAsync(stop.Token);
        await informer.WaitForSyncAsync(CancellationToken.None).WaitAsync(TestCluster.Patience);
        Assert.Equal(1, informer.Get("small")!.Spec.Size);

        await cluster.CreateWidgetAsync("large", 9);
        await cluster.Client.CustomObjects.DeleteClusterCustomObjectAsync(Widget.Group, Widget.Version, Widget.Plural, "small");
        await TestCluster.Eventually(() => changes.Seen.Count == 3, "the add and delete arrive");
        Assert.Equal(new[] { "add:small", "add:large", "delete:small" }, changes.Drain());
        Assert.Equal(9, informer.Get("large")!.Spec.Size);
        await Stop(stop, run);
    }

    [Fact]
    public async Task ResyncRedeliversEveryCachedObjectAsAnUpdate()
    {
        await using var cluster = await TestCluster.StartAsync();
        await cluster.CreateNodeAsync("node-a");
        await cluster.CreateNodeAsync("node-b");
        var informer = new Informer<V1Node>(ResourceClients.Nodes(cluster.Api), new InformerOptions { ResyncPeriod = TimeSpan.FromMilliseconds(100) });
        var changes = new Changes<V1Node>(informer);
        using var stop = new CancellationTokenSource();
        var run = informer.RunAsync(stop.Token);
        await TestCluster.Eventually(() => changes.Seen.Count(c => c.StartsWith("update:")) >= 4, "two resyncs of two nodes");
        Assert.Contains("update:node-a", changes.Seen);
        Assert.Contains("update:node-b", changes.Seen);
        Assert.Equal(1, informer.ListCount);
        await Stop(stop, run);
    }

    [Fact]
    public async Task AFailingHandlerDoesNotStopTheInformer()
    {
        await using var cluster = await TestCluster.StartAsync();
        var informer = new Informer<V1Node>(ResourceClients.Nodes(cluster.Api));
        informer.Added += node => throw new InvalidOperationException($"handler refuses {node.Metadata.Name}");
        using var stop = new CancellationTokenSource();
        var run = informer.RunAsync(stop.Token);
        await informer.WaitForSyncAsync(CancellationToken.None).WaitAsync(TestCluster.Patience);
        await cluster.CreateNodeAsync("node-a");
        await cluster.CreateNodeAsync("node-b");
        await TestCluster.Eventually(() => informer.Count == 2, "both nodes are cached despite the handler");
        await Stop(stop, run);
    }

    [Fact]
    public async Task OwnWritesAreSeenAtOnceAndGiveWayToTheWatchOnceItCatchesUp()
    {
        await using var cluster = await TestCluster.StartAsync();
        await cluster.CreateNodeAsync("written");
        await cluster.CreateNodeAsync("deleted");
        var source = new GatedListWatch<V1Node>(ResourceClients.Nodes(cluster.Api));
        var informer = new Informer<V1Node>(source);
        using var stop = new CancellationTokenSource();
        var run = informer.RunAsync(stop.Token);
        await informer.WaitForSyncAsync(CancellationToken.None).WaitAsync(TestCluster.Patience);
        await WatchIsLive(cluster, informer, "probe");

        // The watch is held back: only the assumptions can show our writes.
        source.Close();
        cluster.Server.BreakWatches();
        var labelled = await cluster.LabelNodeAsync("written", "zone", "east");
        informer.Assume(labelled);
        var doomed = informer.Get("deleted")!;
        await cluster.Client.CoreV1.DeleteNodeAsync("deleted");
        informer.AssumeDeleted(doomed);
        var created = await cluster.CreateNodeAsync("created");
        informer.Assume(created);

        Assert.Equal("east", informer.Get("written")!.Metadata.Labels["zone"]);
        Assert.Null(informer.Get("deleted"));
        Assert.NotNull(informer.Get("created"));
        Assert.Equal(new[] { "created", "probe", "written" }, informer.List().Select(n => n.Metadata.Name).Order());

        // An older copy never replaces a newer assumption.
        var stale = informer.Get("written")!;
        stale.Metadata.ResourceVersion = "1";
        informer.Assume(stale);
        Assert.Equal(labelled.Metadata.ResourceVersion, informer.Get("written")!.Metadata.ResourceVersion);

        // Someone else writes after us: once the watch delivers that, it wins over our assumption.
        var later = await cluster.LabelNodeAsync("written", "zone", "west");
        source.Open();
        await TestCluster.Eventually(() => informer.Get("written")!.Metadata.Labels["zone"] == "west", "the newer write wins once delivered");
        Assert.Equal(later.Metadata.ResourceVersion, informer.Get("written")!.Metadata.ResourceVersion);
        Assert.Null(informer.Get("deleted"));

        // A node made again under a deleted name is newer than the deletion we assumed, so it shows.
        await cluster.CreateNodeAsync("deleted");
        await TestCluster.Eventually(() => informer.Get("deleted") is not null, "a node made again after our deletion shows");
        await Stop(stop, run);
    }

    [Fact]
    public async Task RunningTwiceIsRefused()
    {
        await using var cluster = await TestCluster.StartAsync();
        var informer = new Informer<V1Node>(ResourceClients.Nodes(cluster.Api));
        using var stop = new CancellationTokenSource();
        var run = informer.RunAsync(stop.Token);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => informer.RunAsync(stop.Token));
        Assert.Contains("nodes", error.Message);
        await Stop(stop, run);
    }

    /// <summary>Node lists through <paramref name="pageSize"/>-object pages; <paramref name="betweenPages"/> runs once, before the second page is asked for.</summary>
    private static ResourceClient<V1Node, V1NodeList> PagedNodes(TestCluster cluster, int pageSize, Func<Task> betweenPages)
    {
        var client = ApiClient.Connect(new KubernetesClientConfiguration
        {
            Host = cluster.Server.BaseAddress.ToString(), AccessToken = cluster.Server.AdminToken, SslCaCerts = [cluster.Server.CertificateAuthority],
        }, new BetweenPages(betweenPages));
        return new ResourceClient<V1Node, V1NodeList>(client, "/api/v1/nodes", "nodes") { PageSize = pageSize };
    }

    /// <summary>Runs an action once, when the first request for a continued page passes.</summary>
    private sealed class BetweenPages(Func<Task> action) : DelegatingHandler
    {
        private int _pages;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri!.Query.Contains("continue=") && Interlocked.Increment(ref _pages) == 1) await action();
            return await base.SendAsync(request, cancellationToken);
        }
    }

    [Fact]
    public async Task AListInPagesIsOneSnapshotAndTheWatchCatchesUpFromIt()
    {
        await using var cluster = await TestCluster.StartAsync();
        foreach (var name in new[] { "node-a", "node-b", "node-c", "node-d", "node-e" }) await cluster.CreateNodeAsync(name);
        var source = PagedNodes(cluster, 2, async () =>
        {
            // Already listed, still to come, gone before its page, new: the pages must not see them; the watch must.
            await cluster.LabelNodeAsync("node-a", "zone", "east");
            await cluster.LabelNodeAsync("node-d", "zone", "west");
            await cluster.Client.CoreV1.DeleteNodeAsync("node-e");
            await cluster.CreateNodeAsync("node-f");
        });
        var listed = await source.ListAsync(n => n, CancellationToken.None);
        Assert.Equal(["node-a", "node-b", "node-c", "node-d", "node-e"], listed.Items.Select(n => n.Metadata.Name).ToArray());
        Assert.All(listed.Items, n => Assert.False(n.Metadata.Labels?.ContainsKey("zone") ?? false));

        var informer = new Informer<V1Node>(PagedNodes(cluster, 2, () => Task.CompletedTask));
        using var stop = new CancellationTokenSource();
        var run = informer.RunAsync(stop.Token);
        await informer.WaitForSyncAsync(CancellationToken.None).WaitAsync(TestCluster.Patience);
        await cluster.LabelNodeAsync("node-b", "zone", "north");
        await TestCluster.Eventually(() => informer.Get("node-b")?.Metadata.Labels?.ContainsKey("zone") == true, "node-b's label arrives");
        Assert.Equal(["node-a", "node-b", "node-c", "node-d", "node-f"], informer.List().Select(n => n.Metadata.Name).Order().ToArray());
        Assert.Equal("east", informer.Get("node-a")!.Metadata.Labels["zone"]);
        await Stop(stop, run);
    }

    [Fact]
    public async Task AListWhoseSnapshotIsCompactedAwayStartsAgainWhole()
    {
        await using var cluster = await TestCluster.StartAsync();
        foreach (var name in new[] { "node-a", "node-b", "node-c" }) await cluster.CreateNodeAsync(name);
        var source = PagedNodes(cluster, 1, async () =>
        {
            await cluster.CreateNodeAsync("node-d");
            cluster.Server.CompactHistory();
        });
        var listed = await source.ListAsync(n => n, CancellationToken.None);
        Assert.Equal(["node-a", "node-b", "node-c", "node-d"], listed.Items.Select(n => n.Metadata.Name).ToArray());
    }

    [Fact]
    public async Task ATransformShapesWhatIsListedWatchedAndAssumed()
    {
        await using var cluster = await TestCluster.StartAsync();
        await cluster.CreateNodeAsync("node-a", new Dictionary<string, string> { ["keep"] = "yes" });
        IKubernetesObject<V1ObjectMeta> Mark(IKubernetesObject<V1ObjectMeta> o)
        {
            o.Metadata.Annotations = new Dictionary<string, string> { ["transformed"] = "yes" };
            return o;
        }
        var informer = new Informer<V1Node>(ResourceClients.Nodes(cluster.Api), new InformerOptions { Transform = Mark });
        var delivered = new ConcurrentQueue<V1Node>();
        informer.Added += delivered.Enqueue;
        informer.Updated += (_, now) => delivered.Enqueue(now);
        using var stop = new CancellationTokenSource();
        var run = informer.RunAsync(stop.Token);
        await informer.WaitForSyncAsync(CancellationToken.None).WaitAsync(TestCluster.Patience);
        await cluster.LabelNodeAsync("node-a", "zone", "east");
        await cluster.CreateNodeAsync("node-b");
        await TestCluster.Eventually(() => informer.Get("node-b") is not null, "node-b arrives through the watch");
        var assumed = await cluster.LabelNodeAsync("node-b", "zone", "west");
        // A write the watch cannot have delivered yet, so the cache answers with the assumed object itself.
        assumed.Metadata.ResourceVersion = "999999999";
        informer.Assume(assumed);
        var answered = informer.Get("node-b")!;
        Assert.Equal("999999999", answered.Metadata.ResourceVersion);
        Assert.Equal("yes", answered.Metadata.Annotations["transformed"]);

        foreach (var node in delivered.Concat(informer.List()))
            Assert.Equal("yes", node.Metadata.Annotations["transformed"]);
        Assert.Equal("west", informer.Get("node-b")!.Metadata.Labels["zone"]);
        Assert.Equal("yes", informer.Get("node-a")!.Metadata.Labels["keep"]);
        await Stop(stop, run);
    }

    /// <summary>What a projecting informer keeps of a node in the test below: no API object, no resourceVersion.</summary>
    private sealed record NodeZone(string Name, string? Zone);

    [Fact]
    public async Task A_projection_is_what_is_cached_and_delivered_while_the_informer_keeps_versions_itself()
    {
        await using var cluster = await TestCluster.StartAsync();
        foreach (var name in new[] { "stays", "changes", "goes" })
            await cluster.CreateNodeAsync(name, new Dictionary<string, string> { ["zone"] = "east" });
        var source = new GatedListWatch<V1Node>(ResourceClients.Nodes(cluster.Api));
        var informer = new Informer<V1Node, NodeZone>(source, node => new NodeZone(node.Metadata.Name, (node.Metadata.Labels is { } labels && labels.TryGetValue("zone", out var zone) ? zone : null)));
        var seen = new ConcurrentQueue<string>();
        informer.Added += zone => seen.Enqueue($"add:{zone.Name}:{zone.Zone}");
        informer.Updated += (old, now) => seen.Enqueue($"update:{now.Name}:{old.Zone}->{now.Zone}");
        informer.Deleted += zone => seen.Enqueue($"delete:{zone.Name}:{zone.Zone}");
        using var stop = new CancellationTokenSource();
        var run = informer.RunAsync(stop.Token);
        await informer.WaitForSyncAsync(CancellationToken.None).WaitAsync(TestCluster.Patience);
        Assert.Equal(new[] { "add:changes:east", "add:goes:east", "add:stays:east" }, seen.Order());
        seen.Clear();

        // Through the watch: the old and new projections, and the last one of a deleted node.
        await cluster.LabelNodeAsync("changes", "zone", "west");
        await cluster.Client.CoreV1.DeleteNodeAsync("goes");
        await TestCluster.Eventually(() => seen.Count >= 2, "the watch delivers both changes");
        Assert.Equal(new[] { "delete:goes:east", "update:changes:east->west" }, seen.Order());
        seen.Clear();

        // Our own write shows at once; an older copy of it does not replace it; the watch's newer write wins once delivered.
        source.Close();
        cluster.Server.BreakWatches();
        var ours = await cluster.LabelNodeAsync("stays", "zone", "north");
        informer.Assume(ours);
        Assert.Equal("north", informer.Get("stays")!.Zone);
        var stale = await cluster.Client.CoreV1.ReadNodeAsync("stays");
        stale.Metadata.ResourceVersion = "1";
        stale.Metadata.Labels["zone"] = "stale";
        informer.Assume(stale);
        Assert.Equal("north", informer.Get("stays")!.Zone);
        await cluster.LabelNodeAsync("stays", "zone", "south");

        // A relist after compaction delivers only what changed, judged by the versions the informer kept.
        cluster.Server.CompactHistory();
        source.Open();
        await TestCluster.Eventually(() => informer.ListCount == 2, "the informer lists again after 410 Gone");
        await TestCluster.Eventually(() => informer.Get("stays")!.Zone == "south", "the newer write wins once delivered");
        await Task.Delay(200);
        Assert.Equal(new[] { "update:stays:east->south" }, seen.ToArray());
        Assert.Equal(new[] { "changes:west", "stays:south" }, informer.List().Select(z => $"{z.Name}:{z.Zone}").Order());
        await Stop(stop, run);
    }
}
