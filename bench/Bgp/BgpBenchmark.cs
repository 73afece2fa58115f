using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using k8s;
using k8s.Models;
using Trellis.Addressing;
using Trellis.ApiServer;
using Trellis.Bgp.Session;
using Trellis.Bgp.Speaker;
using Trellis.ControllerRuntime.Clients;
using Trellis.Crds;
using Trellis.Netlink;
using Trellis.Testing;
using Trellis.Testing.Routers;

namespace Trellis.Bench.Bgp;

/// <summary>
/// BGP mode against FRR as the router (bgpd + zebra in its own namespace): how long from a
/// NodeSubnet change until the router's kernel holds the route, with the real agent process, and
/// how long a session takes to come up. The anchor is FRR itself on a second node announcing the
/// same way (a `network` statement, a neighbour shutdown lifted). Medians of rounds.
/// </summary>
public static class BgpBenchmark
{
    private const int Rounds = 10;
    private const uint RouterAsn = 65000;
    private const uint NodeAsn = 64512;
    private const uint ReferenceAsn = 64513;
    private static readonly IPAddress Router = IPAddress.Parse("192.168.1.1");
    private static readonly IPAddress Node = IPAddress.Parse("192.168.1.11");
    private static readonly IPAddress ReferenceNode = IPAddress.Parse("192.168.1.12");

    public static async Task<int> RunAsync(string[] args, string resultsDirectory)
    {
        using var topology = new TestTopology();
        var segment = topology.AddSegment("bgp-sw");
        var routerNs = topology.AddNode("bgp-router", segment, "192.168.1.1/24");
        var nodeNs = topology.AddNode("bgp-node", segment, "192.168.1.11/24");
        var referenceNs = topology.AddNode("bgp-frr-node", segment, "192.168.1.12/24");
        using var router = new FrrRouter(routerNs, new RouterSetup(RouterAsn, Router,
            [new RouterNeighbor(Node, NodeAsn), new RouterNeighbor(ReferenceNode, ReferenceAsn)]));
        router.Start();
        using var reference = new FrrRouter(referenceNs, new RouterSetup(ReferenceAsn, ReferenceNode, [new RouterNeighbor(Router, RouterAsn)]));
        reference.Start();
        // The reference node announces what it is told: no import check, and its outbound deny lifted.
        reference.Vtysh("conf t", "route-map NODES-OUT permit 5", "exit", $"router bgp {ReferenceAsn}", "no bgp network import-check");

        var (speakerUp, frrUp) = await SessionEstablishmentAsync(nodeNs, router, reference);
        var (agentChange, frrChange) = await ChangeToKernelAsync(nodeNs, router, reference);

        BenchReport.Write("bgp", "FRR 8 bgpd as the announcing node",
        [
            new BenchMetric($"NodeSubnet change to router kernel route (median of {Rounds})", BenchStatistics.Median(agentChange), BenchStatistics.Median(frrChange), "ms"),
            new BenchMetric($"session establishment (median of {Rounds})", BenchStatistics.Median(speakerUp), BenchStatistics.Median(frrUp), "ms"),
        ], resultsDirectory);
        return 0;
    }

    /// <summary>From starting to peer (a speaker started; FRR's neighbour shutdown lifted) until the router says Established.</summary>
    private static async Task<(List<double> Speaker, List<double> Frr)> SessionEstablishmentAsync(NetworkNamespace nodeNs, FrrRouter router, FrrRouter reference)
    {
        var speaker = new List<double>();
        var frr = new List<double>();
        for (int round = 0; round < Rounds; round++)
        {
            var watch = Stopwatch.StartNew();
            var bgp = BgpSpeaker.Start(new BgpSpeakerOptions
            {
                SocketFactory = family => NetworkNamespaceRunner.Run(nodeNs.Path, () => new Socket(family, SocketType.Stream, ProtocolType.Tcp)),
            });
            bgp.Apply(new BgpConfiguration(NodeAsn, Node, [new BgpPeer(Router, RouterAsn, HoldTime: TimeSpan.FromSeconds(3))], [], Node, null));
            while (bgp.Status.FirstOrDefault()?.State != SessionState.Established)
            {
                if (watch.Elapsed > TimeSpan.FromSeconds(30)) throw new TimeoutException($"speaker session: {bgp.Status.FirstOrDefault()}");
                await Task.Delay(1);
            }
            speaker.Add(watch.Elapsed.TotalMilliseconds);
            await bgp.StopAsync(keepRoutes: false);
            await WaitAsync(() => router.NeighborState(Node) != "Established", "the router seeing the speaker go");

            reference.Vtysh("conf t", $"router bgp {ReferenceAsn}", $"neighbor {Router} shutdown");
            await WaitAsync(() => router.NeighborState(ReferenceNode) != "Established", "the router seeing FRR go");
            watch.Restart();
            reference.Vtysh("conf t", $"router bgp {ReferenceAsn}", $"no neighbor {Router} shutdown");
            await WaitAsync(() => reference.NeighborState(Router) == "Established", "FRR's session");
            frr.Add(watch.Elapsed.TotalMilliseconds);
            Console.WriteLine($"round {round + 1}: session up: speaker {speaker[^1]:0.0} ms, FRR {frr[^1]:0.0} ms");
        }
        return (speaker, frr);
    }

    /// <summary>The real agent and API server: a block added to the NodeSubnet, until zebra put it in the router's kernel.</summary>
    private static async Task<(List<double> Agent, List<double> Frr)> ChangeToKernelAsync(NetworkNamespace nodeNs, FrrRouter router, FrrRouter reference)
    {
        var directory = Directory.CreateTempSubdirectory("trellis-bgp-bench").FullName;
        using var listener = NetworkNamespaceRunner.Run(nodeNs.Path, () =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.Loopback, 6443));
            socket.Listen(64);
            return socket;
        });
        var options = new KubeApiServerOptions();
        options.AdditionalListeners.Add(listener);
        await using var server = await KubeApiServer.StartAsync(options);
        var client = new Kubernetes(new KubernetesClientConfiguration { Host = server.BaseAddress.ToString() });
        await TrellisCrds.RegisterAsync(client);
        List<string> blocks = ["10.244.1.0/24"];
        var subnets = new CustomResourceClient<NodeSubnet>(ApiClient.Over(client));
        await subnets.CreateAsync(Subnet(blocks));
        var kubeconfig = Path.Combine(directory, "kubeconfig");
        server.WriteKubeconfig(kubeconfig, new Uri("http://127.0.0.1:6443"));
        var plugin = Path.Combine(directory, "plugin-source");
        File.WriteAllText(plugin, "plugin");
        var agentDll = Path.Combine(RepositoryRoot.Find(), "node-agent", "bin",
            AppContext.BaseDirectory.Contains("/Release/") ? "Release" : "Debug", "net10.0", "trellis-agent.dll");
        var info = new ProcessStartInfo("ip") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[]
        {
            "netns", "exec", nodeNs.Name, "dotnet", agentDll, "--kubeconfig", kubeconfig, "--node-name", "bench-node",
            "--cni-conf-dir", Path.Combine(directory, "net.d"), "--cni-bin-dir", Path.Combine(directory, "bin"),
            "--state-dir", Path.Combine(directory, "state"), "--cni-plugin-source", plugin, "--resync-period", "60s",
        })
            info.ArgumentList.Add(argument);
        using var agent = Process.Start(info) ?? throw new InvalidOperationException("cannot start trellis-agent");
        agent.OutputDataReceived += (_, _) => { };
        agent.ErrorDataReceived += (_, _) => { };
        agent.BeginOutputReadLine();
        agent.BeginErrorReadLine();
        var agentTimes = new List<double>();
        var frrTimes = new List<double>();
        try
        {
            await WaitAsync(() => KernelHolds(router, "10.244.1.0/24", Node), "the agent's first block in the router's kernel", TimeSpan.FromSeconds(60));
            for (int round = 0; round < Rounds; round++)
            {
                // A NodeSubnet holds at most 8 blocks: each round swaps the extra block for a new one.
                var block = $"10.244.{10 + round}.0/24";
                blocks = ["10.244.1.0/24", block];
                var patch = new V1Patch(KubernetesJson.Serialize(new
                {
                    spec = new { cidrs = blocks, gateways = blocks.Select(b => BlockGateway.Of(Cidr.Parse(b)).ToString()).ToList() },
                }), V1Patch.PatchType.MergePatch);
                var watch = Stopwatch.StartNew();
                await subnets.PatchAsync(patch, NodeSubnet.NameFor("pods", "bench-node"));
                await WaitAsync(() => KernelHolds(router, block, Node), $"{block} in the router's kernel");
                agentTimes.Add(watch.Elapsed.TotalMilliseconds);

                var referenceBlock = $"10.244.{100 + round}.0/24";
                watch.Restart();
                reference.Vtysh("conf t", $"router bgp {ReferenceAsn}", "address-family ipv4 unicast", $"network {referenceBlock}");
                await WaitAsync(() => KernelHolds(router, referenceBlock, ReferenceNode), $"{referenceBlock} in the router's kernel");
                frrTimes.Add(watch.Elapsed.TotalMilliseconds);
                Console.WriteLine($"round {round + 1}: change to kernel: agent {agentTimes[^1]:0.0} ms, FRR {frrTimes[^1]:0.0} ms");
            }
        }
        finally
        {
            if (!agent.HasExited) agent.Kill(entireProcessTree: true);
            agent.WaitForExit(10_000);
            Directory.Delete(directory, recursive: true);
        }
        return (agentTimes, frrTimes);
    }

    private static NodeSubnet Subnet(List<string> blocks) => new()
    {
        Metadata = new V1ObjectMeta { Name = "pods.bench-node" },
        Spec = new NodeSubnetSpec
        {
            NodeName = "bench-node",
            PodNetwork = "pods",
            Cidrs = blocks.ToList(),
            Gateways = blocks.Select(b => BlockGateway.Of(Cidr.Parse(b)).ToString()).ToList(),
            NodeAddresses = [Node.ToString()],
            NetworkCidrs = ["10.244.0.0/16"],
            Routing = new RoutingSpec
            {
                Mode = RoutingModes.Bgp,
                Bgp = new BgpSpec { Asn = NodeAsn, HoldTime = 3, Peers = [new BgpPeerSpec { Address = Router.ToString(), Asn = RouterAsn }] },
            },
            NatOutgoing = false,
        },
    };

    private static bool KernelHolds(FrrRouter router, string prefix, IPAddress via) =>
        router.KernelRoutes().Split('\n').Any(line => line.StartsWith(prefix + " ") && line.Contains($" via {via} "));

    private static async Task WaitAsync(Func<bool> condition, string what, TimeSpan? within = null)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > (within ?? TimeSpan.FromSeconds(30))) throw new TimeoutException($"waiting for {what}");
            await Task.Delay(1);
        }
    }
}
