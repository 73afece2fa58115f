using System.Net;
using System.Net.Sockets;
using System.Text;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Trellis.ControllerRuntime.Clients;
using Xunit;

namespace Trellis.ControllerRuntime.Tests.Clients;

/// <summary>
/// A server that answers a watch with whatever a test scripts (an HTTP/1.1 responder on loopback), so the watch decoder
/// meets what kube-apiserver sends on a bad day and what no API server should send: each must end the watch with an
/// error naming the resource (an informer then backs off and retries), never deliver a half-read object.
/// </summary>
public sealed class HostileWatchTests
{
    private const string Bookmark = """{"kind":"Node","apiVersion":"v1","metadata":{"resourceVersion":"9"}}""";
    private const string Node = """{"apiVersion":"v1","kind":"Node","metadata":{"name":"node-a","resourceVersion":"7"}}""";

    [Fact]
    public async Task EventsAndBookmarksAreDeliveredAndTheServersEndIsANormalEnd()
    {
        var events = await WatchAsync(200, $$"""
            {"type":"ADDED","object":{{Node}}}

            {"type":"MODIFIED","object":{{Node}}}
            {"type":"BOOKMARK","object":{{Bookmark}}}
            {"type":"DELETED","object":{{Node}}}
            """);
        Assert.Equal([WatchEventKind.Added, WatchEventKind.Modified, WatchEventKind.Bookmark, WatchEventKind.Deleted], events.Select(e => e.Type).ToArray());
        Assert.Equal("node-a", events[0].Object.Metadata.Name);
        Assert.Equal("9", events[2].Object.Metadata.ResourceVersion);
    }

    [Theory]
    [InlineData("this is not json", "not a watch event")]
    [InlineData("""{"type":"ADDED"}""", "not a watch event")]
    [InlineData("""{"type":7,"object":{}}""", "not a watch event")]
    [InlineData("""["ADDED"]""", "not a watch event")]
    [InlineData("""{"type":"ADDED","object":{"metadata":"node-a"}}""", "not a watch event")]
    [InlineData("""{"type":"ADDED","object":{"metadata":{"name":"node-a"}""", "not a watch event")]
    [InlineData("""{"type":"EXPLODED","object":{}}""", "unknown type 'EXPLODED'")]
    [InlineData("""{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","message":"internal error","reason":"InternalError","code":500}}""", "failed: 500 InternalError: internal error")]
    public async Task AHostileLineEndsTheWatchWithAnErrorNamingTheResource(string line, string expected)
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => WatchAsync(200, $$"""
            {"type":"ADDED","object":{{Node}}}
            {{line}}
            {"type":"MODIFIED","object":{{Node}}}
            """));
        Assert.Contains("watch of nodes", error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public async Task AnErrorEventWithCode410IsAnExpiredResourceVersion()
    {
        var error = await Assert.ThrowsAsync<ResourceExpiredException>(() => WatchAsync(200,
            """{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old resource version: 5 (9)","reason":"Expired","code":410}}"""));
        Assert.Contains("too old resource version", error.Message);
    }

    [Fact]
    public async Task AGoneAnswerIsAnExpiredResourceVersionAndOtherRefusalsKeepTheirStatus()
    {
        await Assert.ThrowsAsync<ResourceExpiredException>(() => WatchAsync(410, """{"kind":"Status","code":410}"""));
        var refused = await Assert.ThrowsAsync<HttpOperationException>(() => WatchAsync(403, """{"kind":"Status","code":403,"message":"forbidden"}"""));
        Assert.Equal(HttpStatusCode.Forbidden, refused.Response.StatusCode);
        Assert.Contains("forbidden", refused.Response.Content);
    }

    [Fact]
    public async Task AListPageWithoutAResourceVersionIsRefused()
    {
        using var server = new ScriptedServer(200, """{"apiVersion":"v1","kind":"NodeList","metadata":{},"items":[]}""");
        var nodes = ResourceClients.Nodes(server.Client);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => nodes.ListAsync(n => n, CancellationToken.None));
        Assert.Contains("no metadata.resourceVersion", error.Message);
    }

    private static async Task<List<(WatchEventKind Type, V1Node Object)>> WatchAsync(int status, string body)
    {
        using var server = new ScriptedServer(status, body);
        var events = new List<(WatchEventKind, V1Node)>();
        await foreach (var item in ResourceClients.Nodes(server.Client).WatchAsync("5", CancellationToken.None))
            events.Add(item);
        return events;
    }

    /// <summary>Answers one request on loopback with a status and a body, then closes the connection.</summary>
    private sealed class ScriptedServer : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly Task _serving;

        public ScriptedServer(int status, string body)
        {
            _listener.Start();
            Client = ApiClient.Connect(new KubernetesClientConfiguration { Host = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}" });
            _serving = ServeAsync(status, body);
        }

        public ApiClient Client { get; }

        private async Task ServeAsync(int status, string body)
        {
            using var connection = await _listener.AcceptTcpClientAsync();
            var stream = connection.GetStream();
            var request = new StringBuilder();
            var buffer = new byte[4096];
            while (!request.ToString().Contains("\r\n\r\n"))
            {
                var read = await stream.ReadAsync(buffer);
                if (read == 0) return;
                request.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }
            var content = Encoding.UTF8.GetBytes(body.ReplaceLineEndings("\n") + "\n");
            var head = $"HTTP/1.1 {status} Scripted\r\nContent-Type: application/json\r\nContent-Length: {content.Length}\r\nConnection: close\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
            await stream.WriteAsync(content);
        }

        public void Dispose()
        {
            Client.Dispose();
            _listener.Stop();
            try { _serving.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
        }
    }
}
