using System.Net;
using System.Net.Sockets;
using System.Text;
using k8s;
using k8s.Models;
using Trellis.ControllerRuntime.Clients;
using Xunit;

namespace Trellis.ControllerRuntime.Tests.Clients;

/// <summary>
/// The configured timeout bounds a request until its answer begins: a server that takes a request and never answers
/// cannot hold a status write forever, and a watch that streams for longer than the timeout is not cut.
/// </summary>
public sealed class ApiTimeoutTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task ARequestToAServerThatNeverAnswersEndsAtTheTimeout()
    {
        using var server = new SilentThenStreamingServer(answer: false);

        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            ApiHttp.ReadAsync<V1Node>(server.Client, "/api/v1/nodes/a", CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.IsType<TimeoutException>(error.InnerException);
    }

    [Fact]
    public async Task AWatchStreamsOnPastTheTimeout()
    {
        using var server = new SilentThenStreamingServer(answer: true);
        var names = new List<string>();

        await foreach (var (_, node) in ResourceClients.Nodes(server.Client).WatchAsync("5", CancellationToken.None))
            names.Add(node.Metadata.Name);

        Assert.Equal(["early", "late"], names);
    }

    /// <summary>
    /// One connection over HTTP/1.1. Silent: reads the request and answers nothing until disposed. Answering: sends a
    /// watch's headers and one event at once, and a second event three timeouts later, then closes.
    /// </summary>
    private sealed class SilentThenStreamingServer : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _serving;

        public SilentThenStreamingServer(bool answer)
        {
            _listener.Start();
            Client = ApiClient.Connect(new KubernetesClientConfiguration
            {
                Host = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}",
                HttpClientTimeout = Timeout,
            });
            _serving = ServeAsync(answer, _stop.Token);
        }

        public ApiClient Client { get; }

        private async Task ServeAsync(bool answer, CancellationToken stop)
        {
            using var connection = await _listener.AcceptTcpClientAsync(stop);
            var stream = connection.GetStream();
            var request = new StringBuilder();
            var buffer = new byte[4096];
            while (!request.ToString().Contains("\r\n\r\n"))
            {
                var read = await stream.ReadAsync(buffer, stop);
                if (read == 0) return;
                request.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }
            if (!answer)
            {
                await Task.Delay(System.Threading.Timeout.Infinite, stop);
                return;
            }
            await stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"), stop);
            await stream.WriteAsync(Event("early"), stop);
            await stream.FlushAsync(stop);
            await Task.Delay(3 * Timeout, stop);
            await stream.WriteAsync(Event("late"), stop);
        }

        private static byte[] Event(string name) =>
            Encoding.UTF8.GetBytes("{\"type\":\"ADDED\",\"object\":{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"" + name + "\",\"resourceVersion\":\"6\"}}}\n");

        public void Dispose()
        {
            Client.Dispose();
            _stop.Cancel();
            _listener.Stop();
            try { _serving.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
        }
    }
}
