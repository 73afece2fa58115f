using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Prometheus;
using Trellis.ControllerRuntime.Hosting;
using Xunit;

namespace Trellis.ControllerRuntime.Tests.Hosting;

/// <summary>The probe server as its clients meet it: the kubelet and Prometheus, and whoever else reaches the port.</summary>
public sealed class ProbeEndpointTests : IAsyncLifetime
{
    private readonly CancellationTokenSource _stop = new();
    private readonly int _port = FreePort();
    private Task _serving = Task.CompletedTask;
    private volatile ProbeAnswer _readiness = new(false, "not synced yet");

    public async Task InitializeAsync()
    {
        var registry = Prometheus.Metrics.NewCustomRegistry();
        Prometheus.Metrics.WithCustomRegistry(registry).CreateCounter("trellis_test_total", "A counter the scrape must show.").Inc(3);
        _serving = ProbeEndpoint.ServeAsync(_port, () => ProbeAnswer.Ok, () => _readiness, registry, NullLogger.Instance, _stop.Token);
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, _port);
                return;
            }
            catch (SocketException) when (attempt < 50)
            {
                await Task.Delay(100);
            }
        }
    }

    public async Task DisposeAsync()
    {
        _stop.Cancel();
        await _serving.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Probes_answer_with_status_and_reason_and_metrics_in_Prometheus_text()
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_port}") };
        var healthz = await http.GetAsync("/healthz");
        Assert.Equal((HttpStatusCode.OK, "ok\n"), (healthz.StatusCode, await healthz.Content.ReadAsStringAsync()));
        var readyz = await http.GetAsync("/readyz?verbose");
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "not synced yet\n"), (readyz.StatusCode, await readyz.Content.ReadAsStringAsync()));
        _readiness = ProbeAnswer.Ok;
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/readyz")).StatusCode);
        var metrics = await http.GetAsync("/metrics");
        Assert.StartsWith("text/plain; version=0.0.4", metrics.Content.Headers.ContentType!.ToString());
        Assert.Contains("trellis_test_total 3", await metrics.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/other")).StatusCode);
        var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/healthz"));
        Assert.Equal((HttpStatusCode.OK, 3L), (head.StatusCode, head.Content.Headers.ContentLength));
        var post = await http.PostAsync("/healthz", new StringContent("x"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
        Assert.Equal("GET, HEAD", string.Join(", ", post.Content.Headers.Allow));
    }

    [Fact]
    public async Task Both_families_reach_it()
    {
        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://[::1]:{_port}/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://127.0.0.1:{_port}/healthz")).StatusCode);
    }

    [Theory]
    [InlineData("GARBAGE\r\n\r\n", 400)]
    [InlineData("GET healthz HTTP/1.1\r\n\r\n", 400)]
    [InlineData("GET /healthz HTTP/2.0\r\n\r\n", 400)]
    [InlineData("GET /healthz\r\n\r\n", 400)]
    [InlineData("DELETE /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 405)]
    [InlineData("GET /healthz HTTP/1.0\r\n\r\n", 200)]
    public async Task A_malformed_or_unexpected_request_gets_a_clear_status(string request, int status) =>
        Assert.StartsWith($"HTTP/1.1 {status} ", await RawAsync(Encoding.ASCII.GetBytes(request)));

    [Fact]
    public async Task A_request_head_past_the_limit_is_refused_unread()
    {
        var huge = Encoding.ASCII.GetBytes("GET /healthz HTTP/1.1\r\nX-Filler: " + new string('a', ProbeEndpoint.MaxRequestBytes) + "\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 431 ", await RawAsync(huge));
    }

    [Fact]
    public async Task Silent_and_vanishing_clients_neither_block_others_nor_stop_the_server()
    {
        // Connections that send nothing, up to the limit of those answered at once and past it.
        var silent = new List<TcpClient>();
        for (int i = 0; i < ProbeEndpoint.MaxConnections + 8; i++)
        {
            var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, _port);
            silent.Add(client);
        }
        // Those past the limit are closed unread at once; those within it wait for their request (10 s).
        var overflow = new byte[16];
        var refused = await silent[^1].GetStream().ReadAsync(overflow).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(0, refused);
        Assert.False(silent[0].GetStream().ReadAsync(overflow).AsTask().Wait(TimeSpan.FromMilliseconds(500)));
        // Clients that hang up before, during and right after their request.
        for (int i = 0; i < 20; i++)
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, _port);
            if (i % 2 == 0) await client.GetStream().WriteAsync("GET /metr"u8.ToArray());
            else await client.GetStream().WriteAsync("GET /metrics HTTP/1.1\r\n\r\n"u8.ToArray());
            client.Client.LingerState = new LingerOption(true, 0); // a reset, not a polite close
        }
        // Those over the limit were closed unread; the rest hold their slots until the request deadline lets them go.
        foreach (var client in silent) client.Dispose();
        var deadline = DateTime.UtcNow + ProbeEndpoint.RequestTimeout + TimeSpan.FromSeconds(10);
        while (true)
        {
            try
            {
                Assert.StartsWith("HTTP/1.1 200 ", await RawAsync("GET /healthz HTTP/1.1\r\n\r\n"u8.ToArray()));
                break;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
        Assert.False(_serving.IsCompleted);
    }

    [Fact]
    public async Task A_client_that_never_finishes_its_request_is_cut_off_at_the_deadline()
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, _port);
        var stream = client.GetStream();
        await stream.WriteAsync("GET /healthz HTTP/1.1\r\n"u8.ToArray());
        var buffer = new byte[64];
        var read = await stream.ReadAsync(buffer).AsTask().WaitAsync(ProbeEndpoint.RequestTimeout + TimeSpan.FromSeconds(10));
        Assert.Equal(0, read);
    }

    [Fact]
    public void A_port_in_use_fails_the_start_naming_the_port_and_the_kernels_reason()
    {
        var error = Assert.Throws<IOException>(() =>
            ProbeEndpoint.ServeAsync(_port, () => ProbeAnswer.Ok, () => ProbeAnswer.Ok, Prometheus.Metrics.NewCustomRegistry(), NullLogger.Instance, CancellationToken.None)
                .GetAwaiter().GetResult());
        Assert.Contains($"port {_port}", error.Message);
        Assert.Equal(SocketError.AddressAlreadyInUse, Assert.IsType<SocketException>(error.InnerException).SocketErrorCode);
    }

    [Fact]
    public async Task A_restarted_server_binds_the_port_again_at_once()
    {
        // The server closes first, so its side of each answered connection lingers in TIME_WAIT.
        for (int i = 0; i < 3; i++) Assert.StartsWith("HTTP/1.1 200 ", await RawAsync("GET /healthz HTTP/1.1\r\n\r\n"u8.ToArray()));
        _stop.Cancel();
        await _serving.WaitAsync(TimeSpan.FromSeconds(10));
        using var again = new CancellationTokenSource();
        var serving = ProbeEndpoint.ServeAsync(_port, () => ProbeAnswer.Ok, () => ProbeAnswer.Ok, Prometheus.Metrics.NewCustomRegistry(), NullLogger.Instance, again.Token);
        Assert.StartsWith("HTTP/1.1 200 ", await RawAsync("GET /readyz HTTP/1.1\r\n\r\n"u8.ToArray()));
        again.Cancel();
        await serving.WaitAsync(TimeSpan.FromSeconds(10));
    }

    private async Task<string> RawAsync(byte[] request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, _port);
        var stream = client.GetStream();
        await stream.WriteAsync(request);
        using var reader = new StreamReader(stream, Encoding.ASCII);
        return await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(20));
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
