using Trellis.ControllerRuntime.Clients;
using Trellis.Addressing;
using System.Diagnostics;
using System.Net.Sockets;
using k8s;
using k8s.Models;
using Trellis.ApiServer;
using Trellis.Crds;
using Trellis.Operator.Allocation;
using Trellis.Operator.Hosting;
using Trellis.Testing;

namespace Trellis.Bench.Operator;

/// <summary>
/// Suite "operator": 5,000 Nodes join a cluster (the in-process API server) with the operator
/// running; how long until every node has its NodeSubnet, how many API writes the operator spent
/// per node (the bar: at most 2), what a restarted operator writes (bar: nothing), and the
/// allocator's own throughput over 65,536 blocks. The issue names no external anchor, so the bars
/// are the reference column.
/// </summary>
public static class OperatorBenchmark
{
    private const int DefaultNodes = 5000;
    private const int AllocatorBlocks = 65536;
    private const int Rounds = 3;

    public static async Task<int> RunAsync(string[] args, string resultsDirectory)
    {
        int nodes = args.Length > 1 && args[0] == "--nodes" ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : DefaultNodes;
        var metrics = new List<BenchMetric>();

        var allocationsPerSecond = MeasureAllocator();
        Console.WriteLine($"allocator: {allocationsPerSecond:0} allocations/s over {AllocatorBlocks} blocks");

        await using var server = await KubeApiServer.StartAsync(new KubeApiServerOptions { WatchHistoryLimit = 100_000, WatcherQueueLimit = 200_000 });
        var client = await ClusterWithOneNetworkAsync(server);

        // Leader election off: lease renewals are writes too, and they do not scale with nodes.
        var options = new OperatorOptions { LeaderElect = false, HealthPort = 0, Identity = "bench" };
        var first = await StartOperatorAsync(client, options);
        server.Metrics.Reset();

        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, nodes), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
            await client.CoreV1.CreateNodeAsync(Node(i), cancellationToken: ct));
        var created = clock.Elapsed;
        await WaitForSubnetsAsync(client, nodes, TimeSpan.FromMinutes(10));
        var converged = clock.Elapsed;
        await WaitForStatusAsync(client, nodes, TimeSpan.FromMinutes(2));
        long operatorWrites = server.Metrics.Writes - nodes;
        Console.WriteLine($"{nodes} nodes created in {created.TotalSeconds:0.00} s; all NodeSubnets in {converged.TotalSeconds:0.00} s; operator writes {operatorWrites}");
        foreach (var ((verb, resource), count) in server.Metrics.Snapshot().Where(p => p.Key.Verb is not ("get" or "list" or "watch")).OrderBy(p => p.Key.Resource))
            Console.WriteLine($"  {verb,-7} {resource,-20} {count}");

        await first.Stop.CancelAsync();
        await first.Running;
        server.Metrics.Reset();
        clock.Restart();
        var second = await StartOperatorAsync(client, options with { Identity = "bench-restarted" });
        var restartSync = clock.Elapsed;
        // Give the restarted operator time to reconcile everything it sees before counting what it wrote.
        await Task.Delay(TimeSpan.FromSeconds(3));
        long restartWrites = server.Metrics.Writes;
        await second.Stop.CancelAsync();
        await second.Running;

        metrics.Add(new BenchMetric($"time to {nodes} NodeSubnets", converged.TotalSeconds, null, "s"));
        metrics.Add(new BenchMetric("NodeSubnets per second", nodes / converged.TotalSeconds, null, "1/s"));
        metrics.Add(new BenchMetric("API writes per node", (double)operatorWrites / nodes, 2, "writes"));
        metrics.Add(new BenchMetric("restart: time to synced", restartSync.TotalSeconds, null, "s"));
        metrics.Add(new BenchMetric("restart: API writes", restartWrites, 0, "writes"));
        metrics.Add(new BenchMetric($"allocator, {AllocatorBlocks} blocks", allocationsPerSecond, null, "alloc/s"));

        // The operator as shipped (Native AOT) beside the same code JIT-compiled, each a process given the whole job afresh.
        var shipped = new List<double>();
        var jit = new List<double>();
        for (int round = 0; round < Rounds; round++)
        {
            shipped.Add(await MeasureOperatorProcessAsync(nodes, OperatorBuild.Shipped));
            jit.Add(await MeasureOperatorProcessAsync(nodes, OperatorBuild.Jit));
            Console.WriteLine($"round {round + 1}: operator peak RSS at {nodes} nodes {shipped[^1]:0.0} MiB Native AOT, {jit[^1]:0.0} MiB JIT");
        }
        metrics.Add(new BenchMetric($"operator process peak RSS at {nodes} nodes, Native AOT vs JIT (median of {Rounds})",
            BenchStatistics.Median(shipped), BenchStatistics.Median(jit), "MiB"));
        BenchReport.Write("operator", "the issue's bars (writes per node <= 2; restart writes nothing)", metrics, resultsDirectory);
        return 0;
    }

    /// <summary>Best of five: every /24 of 10.0.0.0/8 handed to a distinct node.</summary>
    private static double MeasureAllocator()
    {
        var names = Enumerable.Range(0, AllocatorBlocks).Select(i => $"node-{i}").ToArray();
        double best = 0;
        for (int round = 0; round < 5; round++)
        {
            var allocator = new BlockAllocator();
            allocator.DefinePool(new PoolDefinition("bench", [Cidr.Parse("10.0.0.0/8")], 24, 80, Valid: true));
            var clock = Stopwatch.StartNew();
            foreach (var name in names)
                if (!allocator.Allocate("bench", name, AddressFamily.InterNetwork).Succeeded)
                    throw new InvalidOperationException($"allocator refused {name} before the pool was full");
            best = Math.Max(best, AllocatorBlocks / clock.Elapsed.TotalSeconds);
        }
        return best;
    }

    private static async Task<(CancellationTokenSource Stop, Task Running)> StartOperatorAsync(IKubernetes client, OperatorOptions options)
    {
        var instance = new TrellisOperator(ApiClient.Over(client), options);
        var stop = new CancellationTokenSource();
        var running = Task.Run(() => instance.RunAsync(stop.Token));
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (!instance.State.Synced)
        {
            if (running.IsCompleted) await running;
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the operator did not sync its caches within 2 minutes");
            await Task.Delay(10);
        }
        return (stop, running);
    }


    /// <summary>A client of <paramref name="server"/>, with Trellis' CRDs registered and the PodNetwork every node joins.</summary>
    private static async Task<Kubernetes> ClusterWithOneNetworkAsync(KubeApiServer server)
    {
        var client = new Kubernetes(new KubernetesClientConfiguration { Host = server.BaseAddress.ToString(), AccessToken = server.AdminToken, SslCaCerts = [server.CertificateAuthority] });
        await TrellisCrds.RegisterAsync(client);
        await new CustomResourceClient<PodNetwork>(ApiClient.Over(client)).CreateAsync(new PodNetwork
        {
            Metadata = new V1ObjectMeta { Name = "default" },
            Spec = new PodNetworkSpec { Cidrs = ["10.128.0.0/9"], BlockSize = new BlockSize { IPv4 = 24 } },
        });
        return client;
    }

    private enum OperatorBuild
    {
        /// <summary>out/operator/trellis-operator, as scripts/build-artifacts.sh publishes it and the image carries it.</summary>
        Shipped,

        /// <summary>operator's own build output, run by the dotnet host.</summary>
        Jit,
    }

    /// <summary>
    /// An operator process joins a fresh cluster holding one PodNetwork, then <paramref name="nodes"/> Nodes join; once every
    /// Node has its NodeSubnet (and a moment more), its high-water RSS (VmHWM) in MiB.
    /// </summary>
    private static async Task<double> MeasureOperatorProcessAsync(int nodes, OperatorBuild build)
    {
        await using var server = await KubeApiServer.StartAsync(new KubeApiServerOptions { WatchHistoryLimit = 100_000, WatcherQueueLimit = 200_000 });
        var client = await ClusterWithOneNetworkAsync(server);
        var directory = Directory.CreateTempSubdirectory("trellis-operator-bench").FullName;
        try
        {
            var kubeconfig = Path.Combine(directory, "kubeconfig");
            server.WriteKubeconfig(kubeconfig);
            string[] command = build == OperatorBuild.Shipped
                ? [File.Exists(RepositoryRoot.OperatorBinary) ? RepositoryRoot.OperatorBinary
                    : throw new FileNotFoundException($"{RepositoryRoot.OperatorBinary} is missing: run scripts/build-artifacts.sh first")]
                : ["dotnet", Path.Combine(RepositoryRoot.Find(), "operator", "bin",
                    AppContext.BaseDirectory.Contains("/Release/") ? "Release" : "Debug", "net10.0", "trellis-operator.dll")];
            var info = new ProcessStartInfo(command[0]) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in command.Skip(1).Concat(["--kubeconfig", kubeconfig, "--leader-elect=false", "--health-port=0"]))
                info.ArgumentList.Add(argument);
            using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {command[0]}");
            var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) log.Enqueue(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) log.Enqueue(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            try
            {
                await Parallel.ForEachAsync(Enumerable.Range(0, nodes), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
                    await client.CoreV1.CreateNodeAsync(Node(i), cancellationToken: ct));
                await WaitForSubnetsAsync(client, nodes, TimeSpan.FromMinutes(10));
                await Task.Delay(TimeSpan.FromSeconds(2));
                if (process.HasExited)
                    throw new InvalidOperationException($"{command[0]} exited with {process.ExitCode}: {string.Join('\n', log.TakeLast(20))}");
                var hwm = File.ReadLines($"/proc/{process.Id}/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
                return double.Parse(hwm.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / 1024;
            }
            finally
            {
                if (!process.HasExited) process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static V1Node Node(int i) => new()
    {
        Metadata = new V1ObjectMeta { Name = $"node-{i:D5}" },
        Status = new V1NodeStatus
        {
            Addresses = [new V1NodeAddress { Type = "InternalIP", Address = $"172.{16 + i / 65536}.{i / 256 % 256}.{i % 256}" }],
        },
    };

    private static async Task WaitForSubnetsAsync(IKubernetes client, int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var list = await new CustomResourceClient<NodeSubnet>(ApiClient.Over(client)).ListAsync();
            if (list.Count >= count) return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"only {list.Count} of {count} NodeSubnets after {timeout}");
            await Task.Delay(100);
        }
    }

    private static async Task WaitForStatusAsync(IKubernetes client, int nodes, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var network = await new CustomResourceClient<PodNetwork>(ApiClient.Over(client)).GetAsync("default");
            if (network.Status?.Nodes == nodes) return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"PodNetwork default reports {network.Status?.Nodes} nodes, not {nodes}, after {timeout}");
            await Task.Delay(100);
        }
    }
}
