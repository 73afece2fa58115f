using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using k8s;
using Trellis.Local.Connectivity;
using Trellis.Testing;

namespace Trellis.Bench.Throughput;

/// <summary>
/// Suite "throughput": pod-to-pod TCP throughput measured with Debian's iperf3, on the paths Trellis builds (same node
/// through the bridge, across nodes routed Direct, across nodes over VXLAN) in local clusters of two nodes, each beside
/// the anchor of a bare veth pair between two namespaces measured in the same run. Rounds alternate anchor and path so
/// that the machine's load falls on both alike; each figure is the median of its rounds.
/// </summary>
public static class ThroughputBenchmark
{
    private const int Rounds = 3;
    private const int Seconds = 4;

    private sealed record Path(string Name, string Routing, bool SameNode);

    private static readonly Path[] Paths =
    [
        new("same node (bridge)", "Direct", SameNode: true),
        new("across nodes, Direct", "Direct", SameNode: false),
        new("across nodes, VXLAN", "VXLAN", SameNode: false),
    ];

    public static async Task<int> RunAsync(string[] args, string resultsDirectory)
    {
        if (Shell.Run("iperf3", "--version") is { Succeeded: false })
        {
            Console.Error.WriteLine("iperf3 is missing: apt-get install iperf3 (scripts/install-deps.sh installs it)");
            return 1;
        }
        var metrics = new List<BenchMetric>();
        using var bare = BareVethPair.Create();
        foreach (var group in Paths.GroupBy(p => p.Routing))
        {
            using var run = new LocalClusterRun();
            using var up = run.StartUp("--nodes", "2", "--pods-per-node", "2", "--routing", group.Key);
            try
            {
                var pods = await RunningPodsAsync(run);
                foreach (var path in group)
                {
                    var from = pods.First(p => p.Node == "node1");
                    var to = pods.First(p => p != from && (p.Node == from.Node) == path.SameNode);
                    var trellis = new List<double>();
                    var anchor = new List<double>();
                    for (int round = 1; round <= Rounds; round++)
                    {
                        anchor.Add(Measure(bare.Server, bare.Client, BareVethPair.ServerAddress));
                        trellis.Add(Measure(NameOf(to.NamespacePath), NameOf(from.NamespacePath), to.Addresses[0].ToString()));
                        Console.WriteLine($"{path.Name}, round {round}: {from.Key} -> {to.Key} {trellis[^1]:0.00} Gbit/s, bare veth {anchor[^1]:0.00} Gbit/s");
                    }
                    metrics.Add(new BenchMetric($"TCP {path.Name} (median of {Rounds})", BenchStatistics.Median(trellis), BenchStatistics.Median(anchor), "Gbit/s"));
                }
            }
            finally
            {
                up.Kill(entireProcessTree: true);
                up.WaitForExit(10_000);
            }
        }
        BenchReport.Write("throughput", "a bare veth pair between two namespaces (iperf3, same run)", metrics, resultsDirectory);
        return 0;
    }

    private static async Task<IReadOnlyList<PodEndpoint>> RunningPodsAsync(LocalClusterRun run)
    {
        var client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(run.Kubeconfig));
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var pods = await ClusterPods.ListAsync(client, CancellationToken.None);
            if (pods.Count(p => p.Node == "node1") >= 2 && pods.Any(p => p.Node == "node2")) return pods;
            if (clock.Elapsed > TimeSpan.FromMinutes(3)) throw new TimeoutException($"the seed pods did not run within 3 minutes ({pods.Count} running)");
            await Task.Delay(500);
        }
    }

    private static string NameOf(string namespacePath) => System.IO.Path.GetFileName(namespacePath);

    /// <summary>One iperf3 run of <see cref="Seconds"/> s (the first second, slow start, left out): the receiver's rate in Gbit/s.</summary>
    private static double Measure(string serverNamespace, string clientNamespace, string serverAddress)
    {
        using var server = Process.Start(new ProcessStartInfo("ip", ["netns", "exec", serverNamespace, "iperf3", "--server", "--one-off", "--port", "5201"])
            { RedirectStandardOutput = true, RedirectStandardError = true })!;
        try
        {
            CommandResult client = null!;
            for (int attempt = 0; attempt < 20; attempt++)
            {
                Thread.Sleep(100);
                client = Shell.Run("ip", "netns", "exec", clientNamespace, "iperf3", "--client", serverAddress, "--port", "5201",
                    "--time", Seconds.ToString(CultureInfo.InvariantCulture), "--omit", "1", "--json");
                if (client.Succeeded) break;
            }
            if (!client.Succeeded) throw new InvalidOperationException($"iperf3 to {serverAddress} failed: {client.StandardError}{client.StandardOutput}");
            var bitsPerSecond = (double)JsonNode.Parse(client.StandardOutput)!["end"]!["sum_received"]!["bits_per_second"]!;
            return bitsPerSecond / 1e9;
        }
        finally
        {
            if (!server.HasExited) server.Kill();
            server.WaitForExit(5_000);
        }
    }

    /// <summary>The anchor: two namespaces joined by one veth pair, nothing else on the path.</summary>
    private sealed class BareVethPair : IDisposable
    {
        public const string ServerAddress = "10.99.0.2";
        private readonly NetworkNamespace _client = NetworkNamespace.Create("veth-client");
        private readonly NetworkNamespace _server = NetworkNamespace.Create("veth-server");

        public string Client => _client.Name;
        public string Server => _server.Name;

        public static BareVethPair Create()
        {
            var pair = new BareVethPair();
            pair._client.Exec("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", pair._server.Name);
            pair._client.Exec("ip", "addr", "add", "10.99.0.1/30", "dev", "eth0");
            pair._server.Exec("ip", "addr", "add", $"{ServerAddress}/30", "dev", "eth0");
            pair._client.Exec("ip", "link", "set", "eth0", "up");
            pair._server.Exec("ip", "link", "set", "eth0", "up");
            return pair;
        }

        public void Dispose()
        {
            _client.Dispose();
            _server.Dispose();
        }
    }
}
