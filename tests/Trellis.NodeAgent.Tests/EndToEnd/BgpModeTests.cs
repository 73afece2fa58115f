using System.Diagnostics;
using System.Net;
using k8s;
using k8s.Models;
using Trellis.Addressing;
using Trellis.ControllerRuntime.Clients;
using Trellis.Crds;
using Trellis.Testing;
using Trellis.Testing.Routers;
using Xunit.Abstractions;

namespace Trellis.NodeAgent.Tests.EndToEnd;

/// <summary>
/// The seed's one-router network: two nodes whose default gateway is the underlay namespace,
/// where FRR (bgpd + zebra) learns each node's block from its agent and installs it. No node
/// holds a route to the other's block, yet every pod reaches every pod; an agent killed and
/// restarted loses no ping, because the router keeps its routes through graceful restart.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class BgpModeTests(ITestOutputHelper output)
{
    internal const uint NodeAsn = 64512;
    internal const uint RouterAsn = 65000;
    private static readonly (string Name, string Address, string Block)[] Nodes =
        [("node1", "192.168.1.11", "10.244.1.0/24"), ("node2", "192.168.1.12", "10.244.2.0/24")];

    /// <summary>
    /// Two nodes whose default gateway is the underlay namespace (192.168.1.1), where the API server
    /// listens and the router runs; each node gets a BGP NodeSubnet and its agent, which has programmed the node on return.
    /// </summary>
    private static async Task<T> StartAsync<T>(AgentWorld world, Func<NetworkNamespace, RouterSetup, T> createRouter) where T : RouterDaemon
    {
        var underlay = world.Topology.AddSegment("underlay", "192.168.1.1/24");
        underlay.Namespace.Exec("sysctl", "-qw", "net.ipv4.ip_forward=1");
        foreach (var (name, address, _) in Nodes) world.AddNode(name, underlay, $"{address}/24", "192.168.1.1");
        await world.StartApiServerAsync(underlay);
        var router = createRouter(underlay.Namespace, new RouterSetup(RouterAsn, IPAddress.Parse("192.168.1.1"),
            Nodes.Select(n => new RouterNeighbor(IPAddress.Parse(n.Address), NodeAsn)).ToList()));
        try
        {
            router.Start();
            foreach (var (name, address, block) in Nodes) await CreateBgpSubnetAsync(world, name, address, block);
            foreach (var (name, _, _) in Nodes) world.StartAgent(name);
            foreach (var (name, _, _) in Nodes) await world.WaitProgrammedAsync(name);
            return router;
        }
        catch
        {
            router.Dispose();
            throw;
        }
    }

    [Fact]
    public async Task Pods_reach_each_other_through_the_router_and_an_agent_restart_loses_no_ping()
    {
        await using var world = new AgentWorld(output);
        using var router = await StartAsync(world, (ns, setup) => new FrrRouter(ns, setup));

        await world.EventuallyAsync(() => KernelHolds(router, "10.244.1.0/24", "192.168.1.11") && KernelHolds(router, "10.244.2.0/24", "192.168.1.12"),
            "the router's kernel holds both blocks via their nodes");
        Assert.DoesNotContain("10.244.2.0/24", world.Routes("node1"));
        Assert.DoesNotContain("10.244.1.0/24", world.Routes("node2"));
        await world.EventuallyAsync(async () => (await world.GetSubnetAsync("node1")).Status?.BgpSessions == "1/1", "node1 reports its session");
        var status = (await world.GetSubnetAsync("node1")).Status!;
        var session = Assert.Single(status.BgpPeers!);
        Assert.Equal(("192.168.1.1", RouterAsn, "Established", 1), (session.Address, session.Asn, session.State, session.PrefixesSent));
        Assert.NotNull(session.EstablishedSince);
        Assert.Equal(1, status.PeersRouted);

        var one = world.AddPod("node1");
        var two = world.AddPod("node2");
        Assert.True(one.Pod.Ping(two.Address), $"{one.Address} -> {two.Address}");
        Assert.True(two.Pod.Ping(one.Address), $"{two.Address} -> {one.Address}");

        // The agent of node1 dies and comes back while pod traffic flows through the router.
        using var ping = StartPing(one.Pod, two.Address, count: 120, interval: 0.05);
        await Task.Delay(TimeSpan.FromSeconds(1));
        world.KillAgent("node1");
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.True(KernelHolds(router, "10.244.1.0/24", "192.168.1.11"), "the router kept node1's route while its agent was down");
        world.StartAgent("node1");
        await world.EventuallyAsync(() => router.NeighborState(IPAddress.Parse("192.168.1.11")) == "Established", "node1's session is back");
        Assert.True(ping.WaitForExit(30_000), "ping finished");
        var summary = ping.StandardOutput.ReadToEnd();
        output.WriteLine(summary);
        Assert.Contains("120 packets transmitted, 120 received, 0% packet loss", summary);
        Assert.DoesNotContain(router.Routes(), r => r.Stale);
    }

    /// <summary>
    /// What a NodeSubnet says is what each router learns: a block that joins is announced, a block
    /// that leaves is withdrawn, and a deleted NodeSubnet takes its blocks with it (its agent ends the
    /// session with a Cease), read from FRR's kernel and from BIRD's and GoBGP's own tables.
    /// </summary>
    [Theory]
    [InlineData("FRR")]
    [InlineData("BIRD")]
    [InlineData("GoBGP")]
    public async Task Blocks_that_leave_the_NodeSubnet_are_withdrawn_from_the_router(string daemon)
    {
        await using var world = new AgentWorld(output);
        using var router = await StartAsync<RouterDaemon>(world, (ns, setup) => daemon switch
        {
            "FRR" => new FrrRouter(ns, setup),
            "BIRD" => new BirdRouter(ns, setup),
            _ => new GoBgpRouter(ns, setup),
        });
        await world.EventuallyAsync(() => Learned(router, "10.244.1.0/24", "192.168.1.11") && Learned(router, "10.244.2.0/24", "192.168.1.12"),
            $"{router.Name} learns both blocks via their nodes");

        await world.PatchSubnetSpecAsync("node2", new { cidrs = new[] { "10.244.2.0/24", "10.244.20.0/24" }, gateways = new[] { "10.244.2.1", "10.244.20.1" } });
        await world.EventuallyAsync(() => Learned(router, "10.244.20.0/24", "192.168.1.12"), $"{router.Name} learns node2's extra block");
        await world.PatchSubnetSpecAsync("node2", new { cidrs = new[] { "10.244.2.0/24" }, gateways = new[] { "10.244.2.1" } });
        await world.EventuallyAsync(() => !Knows(router, "10.244.20.0/24"), $"{router.Name} drops the block node2 gave back");
        Assert.True(Learned(router, "10.244.2.0/24", "192.168.1.12"), "node2 keeps the block it did not give back");

        await world.DeleteSubnetAsync("node2");
        await world.EventuallyAsync(() => !Knows(router, "10.244.2.0/24"), $"{router.Name} drops node2's block");
        Assert.True(Learned(router, "10.244.1.0/24", "192.168.1.11"), "node1's block stays");
    }

    /// <summary>The router learned <paramref name="prefix"/> via <paramref name="via"/>; FRR also installed it into its kernel.</summary>
    private static bool Learned(RouterDaemon router, string prefix, string via) =>
        router.Routes().Any(r => r.Prefix == Cidr.Parse(prefix) && r.NextHop.Equals(IPAddress.Parse(via)))
        && (router is not FrrRouter frr || KernelHolds(frr, prefix, via));

    private static bool Knows(RouterDaemon router, string prefix) =>
        router.Routes().Any(r => r.Prefix == Cidr.Parse(prefix))
        || (router is FrrRouter frr && frr.KernelRoutes().Split('\n').Any(line => line.StartsWith(prefix + " ")));

    private static bool KernelHolds(FrrRouter router, string prefix, string via) =>
        router.KernelRoutes().Split('\n').Any(line => line.StartsWith(prefix + " ") && line.Contains($" via {via} "));

    internal static Task CreateBgpSubnetAsync(AgentWorld world, string node, string address, string block) =>
        new CustomResourceClient<NodeSubnet>(ApiClient.Over(world.Client)).CreateAsync(new NodeSubnet
        {
            Metadata = new V1ObjectMeta { Name = NodeSubnet.NameFor("pods", node) },
            Spec = new NodeSubnetSpec
            {
                NodeName = node,
                PodNetwork = "pods",
                Cidrs = [block],
                Gateways = [BlockGateway.Of(Cidr.Parse(block)).ToString()],
                NodeAddresses = [address],
                NetworkCidrs = ["10.244.0.0/16"],
                Routing = new RoutingSpec
                {
                    Mode = RoutingModes.Bgp,
                    Bgp = new BgpSpec
                    {
                        Asn = NodeAsn,
                        HoldTime = 3,
                        Peers = [new BgpPeerSpec { Address = "192.168.1.1", Asn = RouterAsn }],
                    },
                },
                NatOutgoing = true,
            },
        });

    private static Process StartPing(NetworkNamespace from, string to, int count, double interval)
    {
        var info = new ProcessStartInfo("ip") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in new[] { "netns", "exec", from.Name, "ping", "-q", "-c", count.ToString(), "-i",
                     interval.ToString(System.Globalization.CultureInfo.InvariantCulture), "-W", "1", to })
            info.ArgumentList.Add(argument);
        return Process.Start(info)!;
    }
}
