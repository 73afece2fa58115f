using Trellis.ControllerRuntime.Clients;
using Trellis.Addressing;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Trellis.ApiServer;
using Trellis.Crds;
using Trellis.Ipam;
using Trellis.Netlink;
using Trellis.NodeAgent;
using Trellis.NodeAgent.Cni;
using Trellis.NodeAgent.Kernel;
using Trellis.NodeAgent.Planning;
using Trellis.Testing;

namespace Trellis.Bench.Agent;

/// <summary>
/// The node agent at 5,000 peers (Direct mode), against `ip -batch` with the same routes, each
/// run in a fresh namespace whose dummy underlay interface holds 172.16.0.1/16:
/// programming every route from nothing, the netlink requests one changed peer costs, and the
/// real agent process's peak RSS against an API server holding 5,000 NodeSubnets (each peer's with the status its own
/// agent would write), and what the agent's cache of them keeps; and, beside it, the peak at <see cref="FloorPeers"/> peers:
/// what the agent costs before its peers do.
/// </summary>
public static class AgentBenchmark
{
    private const int Peers = 5_000;
    private const int FloorPeers = 20;
    private const int Rounds = 3;
    private const string Node = "bench-node";
    private const string NodeAddress = "172.16.0.1";

    public static async Task<int> RunAsync(string[] args, string resultsDirectory)
    {
        var subnets = Subnets(Peers);
        var agentTimes = new List<double>();
        var ipBatchTimes = new List<double>();
        long requestsForOneChange = 0;
        for (int round = 0; round < Rounds; round++)
        {
            ipBatchTimes.Add(ProgramWithIpBatch(subnets));
            var (elapsed, requests) = ProgramWithAgent(subnets);
            agentTimes.Add(elapsed);
            requestsForOneChange = requests;
            Console.WriteLine($"round {round + 1}: agent {elapsed:0.0} ms, ip -batch {ipBatchTimes[^1]:0.0} ms, one changed peer {requests} netlink requests");
        }
        // The agent as shipped (Native AOT) beside the same code JIT-compiled, alternating, each in a fresh world.
        var shipped = new List<(double RssMb, double Seconds)>();
        var jit = new List<(double RssMb, double Seconds)>();
        double wholeCache = 0, keptCache = 0;
        for (int round = 0; round < Rounds; round++)
        {
            var aot = await MeasureAgentProcessAsync(subnets, AgentBuild.Shipped);
            var jitted = await MeasureAgentProcessAsync(subnets, AgentBuild.Jit);
            shipped.Add((aot.RssMb, aot.Seconds));
            jit.Add((jitted.RssMb, jitted.Seconds));
            (wholeCache, keptCache) = (aot.WholeCacheMb, aot.KeptCacheMb);
            Console.WriteLine($"round {round + 1}: agent peak RSS {aot.RssMb:0.0} MiB Native AOT, {jitted.RssMb:0.0} MiB JIT; Programmed after {aot.Seconds:0.00} s, {jitted.Seconds:0.00} s");
        }
        var floor = new List<double>();
        for (int round = 0; round < Rounds; round++)
        {
            floor.Add((await MeasureAgentProcessAsync(Subnets(FloorPeers), AgentBuild.Shipped)).RssMb);
            Console.WriteLine($"round {round + 1}: agent peak RSS {floor[^1]:0.0} MiB Native AOT at {FloorPeers} peers");
        }

        BenchReport.Write("agent", "ip -batch (iproute2)",
        [
            new BenchMetric($"program {Peers} peer routes from nothing (median of {Rounds})", BenchStatistics.Median(agentTimes), BenchStatistics.Median(ipBatchTimes), "ms"),
            new BenchMetric($"netlink requests when 1 of {Peers} peers changes", requestsForOneChange, null, "requests"),
            new BenchMetric($"agent process peak RSS at {Peers} peers, Native AOT vs JIT (median of {Rounds})",
                BenchStatistics.Median([.. shipped.Select(r => r.RssMb)]), BenchStatistics.Median([.. jit.Select(r => r.RssMb)]), "MiB"),
            new BenchMetric($"agent process start to Programmed at {Peers} peers, Native AOT vs JIT (median of {Rounds})",
                BenchStatistics.Median([.. shipped.Select(r => r.Seconds)]), BenchStatistics.Median([.. jit.Select(r => r.Seconds)]), "s"),
            new BenchMetric($"NodeSubnet cache at {Peers} peers with statuses, as kept vs whole", keptCache, wholeCache, "MiB"),
            new BenchMetric($"agent process peak RSS, Native AOT, at {FloorPeers} peers vs {Peers} (median of {Rounds})",
                BenchStatistics.Median(floor), BenchStatistics.Median([.. shipped.Select(r => r.RssMb)]), "MiB"),
        ], resultsDirectory);
        return 0;
    }

    private static List<NodeSubnet> Subnets(int peers)
    {
        var subnets = new List<NodeSubnet> { Subnet(Node, NodeAddress, "10.127.0.0/24") };
        for (int i = 0; i < peers; i++)
            subnets.Add(Subnet($"peer{i}", PeerAddress(i), PeerBlock(i)));
        return subnets;
    }

    private static string PeerAddress(int i) => $"172.16.{1 + i / 250}.{1 + i % 250}";

    private static string PeerBlock(int i) => $"10.{128 + i / 256}.{i % 256}.0/24";

    private static NodeSubnet Subnet(string node, string address, string block) => new()
    {
        Metadata = new V1ObjectMeta { Name = NodeSubnet.NameFor("pods", node), Generation = 1 },
        Spec = new NodeSubnetSpec
        {
            NodeName = node,
            PodNetwork = "pods",
            Cidrs = [block],
            Gateways = [BlockGateway.Of(Cidr.Parse(block)).ToString()],
            NodeAddresses = [address],
            NetworkCidrs = ["10.0.0.0/8"],
            Routing = new RoutingSpec { Mode = RoutingModes.Direct },
            NatOutgoing = false,
        },
    };

    private static NetworkNamespace NodeNamespace()
    {
        var ns = NetworkNamespace.Create("bench-agent");
        try
        {
            // A veth whose peer stays in the same namespace: an up underlay link with nothing behind it.
            ns.Exec("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth0-peer");
            ns.Exec("ip", "addr", "add", $"{NodeAddress}/16", "dev", "eth0");
            ns.Exec("ip", "link", "set", "eth0-peer", "up");
            ns.Exec("ip", "link", "set", "eth0", "up");
            return ns;
        }
        catch
        {
            ns.Dispose();
            throw;
        }
    }

    private static double ProgramWithIpBatch(IReadOnlyList<NodeSubnet> subnets)
    {
        using var ns = NodeNamespace();
        var batch = Path.GetTempFileName();
        try
        {
            var text = new StringBuilder();
            foreach (var peer in subnets.Skip(1))
                text.Append($"route add {peer.Spec.Cidrs[0]} via {peer.Spec.NodeAddresses[0]} dev eth0 proto 148\n");
            File.WriteAllText(batch, text.ToString());
            var watch = Stopwatch.StartNew();
            Shell.RunChecked("ip", "-n", ns.Name, "-batch", batch);
            var elapsed = watch.Elapsed.TotalMilliseconds;
            Check(ns, subnets.Count - 1);
            return elapsed;
        }
        finally
        {
            File.Delete(batch);
        }
    }

    /// <returns>Time of a full reconcile from nothing, and the requests an event-driven reconcile sends when one peer moves.</returns>
    private static (double Milliseconds, long Requests) ProgramWithAgent(List<NodeSubnet> subnets)
    {
        using var ns = NodeNamespace();
        var directory = Directory.CreateTempSubdirectory("trellis-agent-bench").FullName;
        try
        {
            var plugin = Path.Combine(directory, "plugin-source");
            File.WriteAllText(plugin, "plugin");
            // Sysctl and the netlink socket act on the calling thread's namespace: run the whole pass inside it.
            var result = NetworkNamespaceRunner.Run(ns.Path, () =>
            {
                using var netlink = NetlinkHandle.Open();
                var reconciler = new NodeReconciler(Node, new AgentSettings(NodeContract.DefaultBridge, NodeContract.IpamDataDirectory(directory)),
                    new NodeKernel(netlink, NullLogger.Instance), new NftablesRunner(["ip", "netns", "exec", ns.Name, "nft"]),
                    new ConflistWriter(Path.Combine(directory, "net.d")), new PluginInstaller(plugin, Path.Combine(directory, "bin")),
                    NullLogger.Instance);
                var watch = Stopwatch.StartNew();
                var programmed = reconciler.Reconcile([.. subnets.Select(s => CachedSubnet.Of(s, Node))], full: true);
                var elapsed = watch.Elapsed.TotalMilliseconds;
                if (!programmed.Outcome.Programmed) throw new InvalidOperationException($"agent reconcile failed: {programmed.Outcome.Message}");

                var moved = subnets.ToList();
                moved[1 + 17] = Subnet("peer17", "172.16.200.200", PeerBlock(17));
                long before = netlink.RequestsSent;
                var changed = reconciler.Reconcile([.. moved.Select(s => CachedSubnet.Of(s, Node))], full: false);
                long requests = netlink.RequestsSent - before;
                if (!changed.Outcome.Programmed) throw new InvalidOperationException($"agent reconcile failed: {changed.Outcome.Message}");
                return (elapsed, requests);
            });
            Check(ns, subnets.Count - 1);
            if (!ns.Exec("ip", "route", "show", PeerBlock(17)).Contains("via 172.16.200.200"))
                throw new InvalidOperationException("the moved peer's route was not replaced");
            return result;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static void Check(NetworkNamespace ns, int expected)
    {
        var count = ns.Exec("ip", "route", "show", "proto", "148").Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
        if (count != expected) throw new InvalidOperationException($"{ns.Name} holds {count} Trellis routes, expected {expected}");
    }

    private enum AgentBuild
    {
        /// <summary>out/agent/trellis-agent, as scripts/build-artifacts.sh publishes it and the image carries it.</summary>
        Shipped,

        /// <summary>node-agent's own build output, run by the dotnet host.</summary>
        Jit,
    }

    private static string[] Command(AgentBuild build) => build switch
    {
        AgentBuild.Shipped => File.Exists(RepositoryRoot.AgentBinary) ? [RepositoryRoot.AgentBinary]
            : throw new FileNotFoundException($"{RepositoryRoot.AgentBinary} is missing: run scripts/build-artifacts.sh first"),
        _ => ["dotnet", Path.Combine(RepositoryRoot.Find(), "node-agent", "bin",
            AppContext.BaseDirectory.Contains("/Release/") ? "Release" : "Debug", "net10.0", "trellis-agent.dll")],
    };

    /// <summary>The real agent process in a node namespace, against an API server holding every NodeSubnet.</summary>
    private static async Task<(double RssMb, double Seconds, double WholeCacheMb, double KeptCacheMb)> MeasureAgentProcessAsync(IReadOnlyList<NodeSubnet> subnets, AgentBuild build)
    {
        using var ns = NodeNamespace();
        var directory = Directory.CreateTempSubdirectory("trellis-agent-bench").FullName;
        try
        {
            return await MeasureAgentProcessAsync(subnets, ns, directory, build);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task<(double RssMb, double Seconds, double WholeCacheMb, double KeptCacheMb)> MeasureAgentProcessAsync(IReadOnlyList<NodeSubnet> subnets, NetworkNamespace ns, string directory, AgentBuild build)
    {
        using var listener = NetworkNamespaceRunner.Run(ns.Path, () =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.Loopback, 6443));
            socket.Listen(512);
            return socket;
        });
        var options = new KubeApiServerOptions();
        options.AdditionalListeners.Add(listener);
        await using var server = await KubeApiServer.StartAsync(options);
        var client = new Kubernetes(new KubernetesClientConfiguration { Host = server.BaseAddress.ToString(), AccessToken = server.AdminToken, SslCaCerts = [server.CertificateAuthority] });
        await TrellisCrds.RegisterAsync(client);
        await Parallel.ForEachAsync(subnets, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (subnet, ct) =>
        {
            var copy = KubernetesJson.Deserialize<NodeSubnet>(KubernetesJson.Serialize(subnet));
            copy.Metadata.Generation = null;
            var created = await new CustomResourceClient<NodeSubnet>(ApiClient.Over(client)).CreateAsync(copy, ct);
            // Each peer's own agent would have written its status: the agent under test lists them with it.
            if (created.Spec.NodeName != Node)
            {
                created.Status = PeerStatus(created, subnets.Count - 1);
                await new CustomResourceClient<NodeSubnet>(ApiClient.Over(client)).ReplaceStatusAsync(created, ct);
            }
        });

        var kubeconfig = Path.Combine(directory, "kubeconfig");
        server.WriteKubeconfig(kubeconfig, new Uri("https://127.0.0.1:6443"));
        var plugin = Path.Combine(directory, "plugin-source");
        File.WriteAllText(plugin, "plugin");
        var info = new ProcessStartInfo("ip") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "netns", "exec", ns.Name }.Concat(Command(build)).Concat(new[]
        {
            "--kubeconfig", kubeconfig, "--node-name", Node,
            "--cni-conf-dir", Path.Combine(directory, "net.d"), "--cni-bin-dir", Path.Combine(directory, "bin"),
            "--state-dir", Path.Combine(directory, "state"), "--cni-plugin-source", plugin, "--resync-period", "30s",
        }))
            info.ArgumentList.Add(argument);
        var watch = Stopwatch.StartNew();
        using var agent = Process.Start(info) ?? throw new InvalidOperationException("cannot start trellis-agent");
        agent.OutputDataReceived += (_, _) => { };
        agent.ErrorDataReceived += (_, _) => { };
        agent.BeginOutputReadLine();
        agent.BeginErrorReadLine();
        try
        {
            double seconds = 0;
            while (true)
            {
                if (agent.HasExited) throw new InvalidOperationException($"trellis-agent exited with {agent.ExitCode}");
                var own = await new CustomResourceClient<NodeSubnet>(ApiClient.Over(client)).GetAsync(NodeSubnet.NameFor("pods", Node));
                if (own.Status?.PeersRouted == subnets.Count - 1 && own.Status.Conditions.Any(c => c.Type == Conditions.Programmed && c.Status == "True"))
                {
                    seconds = watch.Elapsed.TotalSeconds;
                    break;
                }
                if (watch.Elapsed > TimeSpan.FromMinutes(3)) throw new TimeoutException($"trellis-agent did not program {subnets.Count - 1} peers within 3 minutes");
                await Task.Delay(200);
            }
            // Let a resync-free steady state settle, then read the high-water mark.
            await Task.Delay(TimeSpan.FromSeconds(2));
            var hwm = File.ReadLines($"/proc/{agent.Id}/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            var kb = double.Parse(hwm.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
            Check(ns, subnets.Count - 1);
            // The caches are weighed at full size only: at the floor there is nothing to weigh.
            var (whole, kept) = subnets.Count == Peers + 1 ? await MeasureCachesAsync(client) : (0, 0);
            return (kb / 1024, seconds, whole, kept);
        }
        finally
        {
            if (!agent.HasExited) agent.Kill(entireProcessTree: true);
            agent.WaitForExit(10_000);
        }
    }

    /// <summary>
    /// The live heap an informer's cache of every NodeSubnet takes in this process, objects whole and as the agent keeps them
    /// (<see cref="CachedSubnet"/>: a peer's parsed facts, its own NodeSubnet stripped).
    /// </summary>
    private static async Task<(double WholeMb, double KeptMb)> MeasureCachesAsync(IKubernetes client)
    {
        // Decoded from one listing's JSON as the server sends it (managedFields too; Trellis' own client would skip them), as
        // an informer's list decodes it, with nothing else running in this process between.
        var listing = ((JsonElement)await client.CustomObjects.ListClusterCustomObjectAsync(TrellisApi.Group, TrellisApi.Version, NodeSubnet.Plural)).GetRawText();
        var whole = BenchStatistics.Median([.. Enumerable.Range(0, Rounds).Select(_ => CacheSize(listing, s => (object)s))]);
        var kept = BenchStatistics.Median([.. Enumerable.Range(0, Rounds).Select(_ => CacheSize(listing, s => CachedSubnet.Of(s, Node)))]);
        return (whole, kept);
    }

    private static NodeSubnetStatus PeerStatus(NodeSubnet peer, int peers) => new()
    {
        ObservedGeneration = peer.Metadata.Generation,
        Conditions = [new V1Condition { Type = Conditions.Programmed, Status = "True", Reason = "Programmed", Message = $"{peers} peer routes, bridge and masquerade programmed", LastTransitionTime = DateTime.UtcNow, ObservedGeneration = peer.Metadata.Generation }],
        PeersRouted = peers,
        AddressesInUse = 17,
        AddressCapacity = 254,
        Blocks = peer.Spec.Cidrs.Select(c => new BlockUsageStatus { Cidr = c, AddressesInUse = 17, AddressCapacity = 254 }).ToList(),
        Families = [new FamilyUsageStatus { Family = "IPv4", Blocks = peer.Spec.Cidrs.Count, AddressesInUse = 17, AddressCapacity = 254 }],
    };

    private static double CacheSize(string listing, Func<NodeSubnet, object> keep)
    {
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var cache = Decode(listing, keep);
        var after = GC.GetTotalMemory(forceFullCollection: true);
        if (cache.Count != Peers + 1) throw new InvalidOperationException($"the listing held {cache.Count} NodeSubnets, not {Peers + 1}");
        GC.KeepAlive(cache);
        return (after - before) / (1024.0 * 1024);
    }

    /// <summary>
    /// Decodes and keeps in a frame of its own: the decoded list, left in a stack slot of the measuring method, would stay
    /// alive through its second collection and count the whole objects as kept.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static List<object> Decode(string listing, Func<NodeSubnet, object> keep) =>
        KubernetesJson.Deserialize<KubernetesList<NodeSubnet>>(listing).Items.Select(keep).ToList();
}
