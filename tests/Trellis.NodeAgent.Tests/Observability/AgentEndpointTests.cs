using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Trellis.Bgp.Session;
using Trellis.NodeAgent.NetworkPolicy;
using Trellis.NodeAgent.Observability;
using Trellis.NodeAgent.Reconciling;
using Trellis.Testing;

namespace Trellis.NodeAgent.Tests.Observability;

/// <summary>The agent's one HTTP server, answering as the kubelet's probes and Prometheus see it, with the loop's clock in the test's hand.</summary>
public sealed class AgentEndpointTests
{
    private sealed class ManualClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

        public override DateTimeOffset GetUtcNow() => Now;
    }

    /// <summary>The families an operator alerts on; each must be present and parse, whatever the agent has done so far.</summary>
    public static readonly string[] RequiredSamples =
    [
        "trellis_agent_reconcile_duration_seconds_count", "trellis_agent_reconcile_errors_total", "trellis_agent_kernel_errors_total",
        "trellis_agent_routes_programmed", "trellis_agent_neighbors_programmed", "trellis_agent_fdb_entries_programmed", "trellis_agent_programmed",
        "trellis_agent_ipam_addresses_in_use", "trellis_agent_ipam_address_capacity", "trellis_agent_addresses_reclaimed_total",
        "trellis_agent_bgp_sessions_established", "trellis_api_writes_total", "trellis_networkpolicy_enforcing", "process_working_set_bytes",
    ];

    [Fact]
    public async Task Probes_follow_the_loop_and_healthz_fails_when_a_pass_is_stuck()
    {
        var clock = new ManualClock();
        var resync = TimeSpan.FromSeconds(30);
        var health = new LoopHealth(resync, clock);
        var metrics = new AgentMetrics("node1");
        int port = FreePort();
        using var endpoint = new AgentEndpoint(new AgentOptions { NodeName = "node1", MetricsPort = port }, metrics, health,
            new PolicyEnforcementState(), NullLogger<AgentEndpoint>.Instance);
        using var stop = new CancellationTokenSource();
        await endpoint.StartAsync(stop.Token);
        try
        {
            var url = $"http://127.0.0.1:{port}";
            var first = await EventuallyAsync(() => MetricsScrape.Run(url));
            // Waiting for the first cache sync is alive (restarting would not bring the API server back), not ready.
            Assert.Equal((200, 503, 200), (first.Healthz, first.Readyz, first.Metrics));
            Assert.StartsWith("text/plain; version=0.0.4", first.ContentType);

            health.PassStarted();
            clock.Now += TimeSpan.FromSeconds(90);
            Assert.Equal(200, MetricsScrape.Run(url).Healthz);
            clock.Now += LoopHealth.StuckAfter;
            var stuck = MetricsScrape.Run(url);
            Assert.Equal(503, stuck.Healthz);
            Assert.Equal(503, stuck.Readyz);

            health.PassFinished(null);
            var programmed = MetricsScrape.Run(url);
            Assert.Equal((200, 200), (programmed.Healthz, programmed.Readyz));

            health.PassStarted();
            health.PassFinished("KernelError: route 10.244.2.0/24: File exists");
            Assert.Equal((200, 503), (MetricsScrape.Run(url).Healthz, MetricsScrape.Run(url).Readyz));

            // A loop that stopped waking (no resync came) is not alive either.
            clock.Now += resync + LoopHealth.StuckAfter + TimeSpan.FromSeconds(1);
            Assert.Equal(503, MetricsScrape.Run(url).Healthz);

            using var http = new HttpClient();
            Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"{url}/other")).StatusCode);
        }
        finally
        {
            await endpoint.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Metrics_carry_every_required_family_and_parse_as_Prometheus_text()
    {
        var metrics = new AgentMetrics("node1");
        metrics.RecordPass(new PassResult(null, new ReconcileOutcome(false, ReconcileOutcome.ReasonKernelError, "route: File exists"), []) { KernelErrors = 2 },
            2, full: true, TimeSpan.FromMilliseconds(3), DateTimeOffset.FromUnixTimeSeconds(1_800_000_000));
        metrics.RecordIpam([("pods.node1", "pods", 5, 253)]);
        metrics.RecordReclaimed(3);
        metrics.RecordBgpSessions([("192.168.1.1", SessionState.Established), ("192.168.1.2", SessionState.Active)]);
        metrics.ApiWrites.WithLabels("patch", "nodesubnets/status", "200").Inc();
        int port = FreePort();
        using var endpoint = new AgentEndpoint(new AgentOptions { NodeName = "node1", MetricsPort = port }, metrics,
            new LoopHealth(TimeSpan.FromSeconds(30)), new PolicyEnforcementState(), NullLogger<AgentEndpoint>.Instance);
        await endpoint.StartAsync(CancellationToken.None);
        try
        {
            var scrape = await EventuallyAsync(() => MetricsScrape.Run($"http://127.0.0.1:{port}"));
            foreach (var name in RequiredSamples)
                Assert.True(scrape.Samples.Any(s => s.Name == name), $"/metrics lacks {name}");
            Assert.All(scrape.Samples.Where(s => s.Name.StartsWith("trellis_", StringComparison.Ordinal)), s => Assert.Equal("node1", s.Labels["node"]));
            Assert.Equal("histogram", scrape.FamilyTypes["trellis_agent_reconcile_duration_seconds"]);
            Assert.Equal(1, scrape.Value("trellis_agent_reconcile_errors_total", l => l["reason"] == "KernelError"));
            Assert.Equal(2, scrape.Value("trellis_agent_kernel_errors_total"));
            Assert.Equal(1, scrape.Value("trellis_agent_reconcile_duration_seconds_count", l => l["kind"] == "full"));
            Assert.Equal(5, scrape.Value("trellis_agent_ipam_addresses_in_use", l => l["node_subnet"] == "pods.node1" && l["pod_network"] == "pods"));
            Assert.Equal(253, scrape.Value("trellis_agent_ipam_address_capacity"));
            Assert.Equal(3, scrape.Value("trellis_agent_addresses_reclaimed_total"));
            Assert.Equal(1, scrape.Value("trellis_agent_bgp_sessions_established"));
            Assert.Equal(1, scrape.Value("trellis_agent_bgp_session_state", l => l["peer"] == "192.168.1.2" && l["state"] == "Active"));
            Assert.Equal(0, scrape.Value("trellis_agent_bgp_session_state", l => l["peer"] == "192.168.1.2" && l["state"] == "Established"));
            Assert.Equal(1, scrape.Value("trellis_api_writes_total", l => l["verb"] == "patch" && l["resource"] == "nodesubnets/status" && l["code"] == "200"));

            // A subnet no longer the node's and a peer no longer configured leave no stale series.
            metrics.RecordIpam([]);
            metrics.RecordBgpSessions([]);
            var after = MetricsScrape.Run($"http://127.0.0.1:{port}");
            Assert.Null(after.Value("trellis_agent_ipam_addresses_in_use"));
            Assert.Null(after.Value("trellis_agent_bgp_session_state"));
        }
        finally
        {
            await endpoint.StopAsync(CancellationToken.None);
        }
    }

    [Theory]
    [InlineData("/apis/trellis.io/v1alpha1/nodesubnets/pods.node1/status", "nodesubnets/status")]
    [InlineData("/apis/trellis.io/v1alpha1/nodesubnets", "nodesubnets")]
    [InlineData("/api/v1/namespaces/default/events", "events")]
    [InlineData("/api/v1/nodes/node1", "nodes")]
    [InlineData("/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/trellis", "leases")]
    [InlineData("/", "unknown")]
    public void Api_writes_are_counted_by_resource(string path, string resource) =>
        Assert.Equal(resource, Trellis.ControllerRuntime.Metrics.ApiWriteCounting.Resource(path));

    private static async Task<MetricsScrape> EventuallyAsync(Func<MetricsScrape> scrape)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return scrape();
            }
            catch (InvalidOperationException) when (attempt < 50)
            {
                await Task.Delay(100);
            }
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
