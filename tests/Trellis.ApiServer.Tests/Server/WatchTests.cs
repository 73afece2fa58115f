using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace Trellis.ApiServer.Tests.Server;

public sealed class WatchTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private static V1Node Node(string name, string? zone = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Labels = zone is null ? null : new Dictionary<string, string> { ["zone"] = zone } },
    };

    /// <summary>Reads a raw watch stream line by line, as newline-delimited JSON.</summary>
    private sealed class RawWatch : IAsyncDisposable
    {
        private readonly HttpResponseMessage _response;
        private readonly StreamReader _reader;

        private RawWatch(HttpResponseMessage response, StreamReader reader)
        {
            _response = response;
            _reader = reader;
        }

        public static async Task<RawWatch> OpenAsync(TestServer t, string pathAndQuery)
        {
            var response = await t.Http.GetAsync(pathAndQuery, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(200, (int)response.StatusCode);
            return new RawWatch(response, new StreamReader(await response.Content.ReadAsStreamAsync()));
        }

        /// <returns>The next event, or null at the end of the stream.</returns>
        public async Task<JsonNode?> NextAsync()
        {
            using var timeout = new CancellationTokenSource(Patience);
            var line = await _reader.ReadLineAsync(timeout.Token);
            return line is null ? null : JsonNode.Parse(line);
        }

        public async Task<JsonNode> NextOfTypeAsync(string type)
        {
            while (true)
            {
                var e = await NextAsync() ?? throw new InvalidOperationException($"the watch ended before a {type} event");
                if (e["type"]!.GetValue<string>() == type) return e;
            }
        }

        public ValueTask DisposeAsync()
        {
            _reader.Dispose();
            _response.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    private static string Describe(JsonNode e) => $"{e["type"]} {e["object"]!["metadata"]!["name"]}";

    [Fact]
    public async Task WatchWithoutVersionStartsWithCurrentObjectsThenGoesLive()
    {
        await using var t = await TestServer.StartAsync();
        await t.Client.CoreV1.CreateNodeAsync(Node("a"));
        await using var watch = await RawWatch.OpenAsync(t, "/api/v1/nodes?watch=true");
        Assert.Equal("ADDED a", Describe((await watch.NextAsync())!));
        await t.Client.CoreV1.CreateNodeAsync(Node("b"));
        await t.Client.CoreV1.PatchNodeAsync(new V1Patch("""{"metadata":{"labels":{"x":"y"}}}""", V1Patch.PatchType.MergePatch), "a");
        await t.Client.CoreV1.DeleteNodeAsync("b");
        Assert.Equal("ADDED b", Describe((await watch.NextAsync())!));
        Assert.Equal("MODIFIED a", Describe((await watch.NextAsync())!));
        var deleted = (await watch.NextAsync())!;
        Assert.Equal("DELETED b", Describe(deleted));
        Assert.Equal("Node", deleted["object"]!["kind"]!.GetValue<string>());
    }

    [Fact]
    public async Task ListThenWatchFromItsVersionResumesWithoutGapsOrRepeats()
    {
        await using var t = await TestServer.StartAsync();
        await t.Client.CoreV1.CreateNodeAsync(Node("before"));
        var list = await t.Client.CoreV1.ListNodeAsync();
        await t.Client.CoreV1.CreateNodeAsync(Node("after-list"));

        var seen = new List<string>();
        using var cts = new CancellationTokenSource(Patience);
        var watching = Task.Run(async () =>
        {
            await foreach (var (type, node) in t.Client.CoreV1.WatchListNodeAsync(resourceVersion: list.Metadata.ResourceVersion, cancellationToken: cts.Token))
            {
                seen.Add($"{type} {node.Metadata.Name}");
                if (node.Metadata.Name == "live") return;
            }
        });
        await Task.Delay(200);
        await t.Client.CoreV1.CreateNodeAsync(Node("live"));
        await watching.WaitAsync(Patience);
        Assert.Equal(["Added after-list", "Added live"], seen);
    }

    [Fact]
    public async Task BookmarksArrive()
    {
        await using var t = await TestServer.StartAsync();
        await t.Client.CoreV1.CreateNodeAsync(Node("a"));
        var rv = (await t.Client.CoreV1.ListNodeAsync()).Metadata.ResourceVersion;
        await using var watch = await RawWatch.OpenAsync(t, $"/api/v1/nodes?watch=1&allowWatchBookmarks=true&resourceVersion={rv}");
        var bookmark = await watch.NextOfTypeAsync("BOOKMARK");
        Assert.Equal("Node", bookmark["object"]!["kind"]!.GetValue<string>());
        Assert.Equal(rv, bookmark["object"]!["metadata"]!["resourceVersion"]!.GetValue<string>());
    }

    [Fact]
    public async Task CompactedHistoryAnswersGoneInsideTheWatch()
    {
        await using var t = await TestServer.StartAsync();
        var created = await t.Client.CoreV1.CreateNodeAsync(Node("a"));
        await t.Client.CoreV1.CreateNodeAsync(Node("b"));
        t.Server.CompactHistory();
        await using var watch = await RawWatch.OpenAsync(t, $"/api/v1/nodes?watch=true&resourceVersion={created.Metadata.ResourceVersion}");
        var error = (await watch.NextAsync())!;
        Assert.Equal("ERROR", error["type"]!.GetValue<string>());
        Assert.Equal(410, error["object"]!["code"]!.GetValue<int>());
        Assert.Equal("Expired", error["object"]!["reason"]!.GetValue<string>());
        Assert.StartsWith($"too old resource version: {created.Metadata.ResourceVersion} (", error["object"]!["message"]!.GetValue<string>());
        Assert.Null(await watch.NextAsync());
    }

    [Fact]
    public async Task HistoryBeyondTheLimitIsGoneToo()
    {
        await using var t = await TestServer.StartAsync(new KubeApiServerOptions { WatchHistoryLimit = 2 });
        var first = await t.Client.CoreV1.CreateNodeAsync(Node("a"));
        for (var i = 0; i < 3; i++) await t.Client.CoreV1.CreateNodeAsync(Node($"n{i}"));
        await using var watch = await RawWatch.OpenAsync(t, $"/api/v1/nodes?watch=true&resourceVersion={first.Metadata.ResourceVersion}");
        Assert.Equal("ERROR", (await watch.NextAsync())!["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task BreakWatchesEndsOpenWatches()
    {
        await using var t = await TestServer.StartAsync();
        await t.Client.CoreV1.CreateNodeAsync(Node("a"));
        var opened = new TaskCompletionSource();
        var closed = new TaskCompletionSource();
        using var watcher = t.Client.CoreV1.WatchListNode(onEvent: (_, _) => opened.TrySetResult(), onError: e => closed.TrySetException(e), onClosed: () => closed.TrySetResult());
        await opened.Task.WaitAsync(Patience);
        await using var raw = await RawWatch.OpenAsync(t, "/api/v1/nodes?watch=true");
        Assert.Equal("ADDED a", Describe((await raw.NextAsync())!));
        t.Server.BreakWatches();
        Assert.Null(await raw.NextAsync());
        await closed.Task.WaitAsync(Patience);
    }

    [Fact]
    public async Task TimeoutSecondsEndsTheWatch()
    {
        await using var t = await TestServer.StartAsync();
        await using var watch = await RawWatch.OpenAsync(t, "/api/v1/nodes?watch=true&timeoutSeconds=1");
        Assert.Null(await watch.NextAsync());
    }

    [Fact]
    public async Task SelectorsFilterWatchesAndLeavingTheSelectionIsDeleted()
    {
        await using var t = await TestServer.StartAsync();
        await using var watch = await RawWatch.OpenAsync(t, "/api/v1/nodes?watch=true&labelSelector=zone%3Deast");
        await t.Client.CoreV1.CreateNodeAsync(Node("west-node", "west"));
        await t.Client.CoreV1.CreateNodeAsync(Node("east-node", "east"));
        await t.Client.CoreV1.PatchNodeAsync(new V1Patch("""{"metadata":{"labels":{"zone":"west"}}}""", V1Patch.PatchType.MergePatch), "east-node");
        await t.Client.CoreV1.PatchNodeAsync(new V1Patch("""{"metadata":{"labels":{"zone":"east"}}}""", V1Patch.PatchType.MergePatch), "west-node");
        Assert.Equal("ADDED east-node", Describe((await watch.NextAsync())!));
        Assert.Equal("DELETED east-node", Describe((await watch.NextAsync())!));
        Assert.Equal("ADDED west-node", Describe((await watch.NextAsync())!));
    }

    [Fact]
    public async Task WatchesOfANamespaceSeeOnlyIt()
    {
        await using var t = await TestServer.StartAsync();
        await t.Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "other" } });
        await using var watch = await RawWatch.OpenAsync(t, "/apis/coordination.k8s.io/v1/namespaces/default/leases?watch=true");
        await t.Client.CoordinationV1.CreateNamespacedLeaseAsync(new V1Lease { Metadata = new V1ObjectMeta { Name = "elsewhere" } }, "other");
        await t.Client.CoordinationV1.CreateNamespacedLeaseAsync(new V1Lease { Metadata = new V1ObjectMeta { Name = "here" } }, "default");
        Assert.Equal("ADDED here", Describe((await watch.NextAsync())!));
    }

    [Fact]
    public async Task TableWatchSendsOneRowTables()
    {
        await using var t = await TestServer.StartAsync();
        await t.Client.CoreV1.CreateNodeAsync(Node("a"));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/nodes?watch=true");
        request.Headers.TryAddWithoutValidation("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io");
        using var response = await t.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var e = JsonNode.Parse((await reader.ReadLineAsync())!)!;
        Assert.Equal("Table", e["object"]!["kind"]!.GetValue<string>());
        Assert.Equal("a", e["object"]!["rows"]![0]!["cells"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task KubernetesClientSeesGoneAsAnError()
    {
        await using var t = await TestServer.StartAsync();
        var created = await t.Client.CoreV1.CreateNodeAsync(Node("a"));
        await t.Client.CoreV1.CreateNodeAsync(Node("b"));
        t.Server.CompactHistory();
        var errors = new List<Exception>();
        var events = new List<WatchEventType>();
        using var cts = new CancellationTokenSource(Patience);
        await foreach (var (type, _) in t.Client.CoreV1.WatchListNodeAsync(resourceVersion: created.Metadata.ResourceVersion, onError: errors.Add, cancellationToken: cts.Token))
            events.Add(type);
        var gone = Assert.IsType<KubernetesException>(Assert.Single(errors));
        Assert.Equal(410, gone.Status.Code);
        Assert.Empty(events);
    }

    [Fact]
    public async Task DeletingACrdSendsDeletedForItsObjects()
    {
        await using var t = await TestServer.StartAsync();
        await t.InstallWidgetCrdAsync();
        await t.SendAsync(HttpMethod.Post, "/apis/test.trellis.io/v1/namespaces/default/widgets", """{"metadata":{"name":"w1"},"spec":{"size":1}}""");
        await using var watch = await RawWatch.OpenAsync(t, "/apis/test.trellis.io/v1/widgets?watch=true");
        Assert.Equal("ADDED w1", Describe((await watch.NextAsync())!));
        await t.SendAsync(HttpMethod.Delete, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.test.trellis.io");
        Assert.Equal("DELETED w1", Describe((await watch.NextAsync())!));
        Assert.Null(await watch.NextAsync());
    }
}
