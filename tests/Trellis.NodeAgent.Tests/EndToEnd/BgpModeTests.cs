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
    private const uint NodeAsn = 64512;
    private const uint RouterAsn = 65000;

    [Fact]
    public async Task Pods_reach_each_other_through_the_router_and_an_agent_restart_loses_no_ping()
    {
        await using var world = new AgentWorld(output);
        var underlay = world.Topology.AddSegment("underlay", "192.168.1.1/24");
        underlay.Namespace.Exec("sysctl", "-qw", "net.ipv4.ip_forward=1");
        var nodes = new[] { ("node1", "192.168.1.11", "10.244.1.0/24"), ("node2", "192.168.1.12", "10.244.2.0/24") };
        foreach (var (name, address, _) in nodes) world.AddNode(name, underlay, $"{address}/24", "192.168.1.1");
        await world.StartApiServerAsync(underlay);
        using var router = new FrrRouter(underlay.Namespace, new RouterSetup(RouterAsn, IPAddress.Parse("192.168.1.1"),
            nodes.Select(n => new RouterNeighbor(IPAddress.Parse(n.Item2), NodeAsn)).ToList()));
        router.Start();
        foreach (var (name, address, block) in nodes) await CreateBgpSubnetAsync(world, name, address, block);
        foreach (var (name, _, _) in nodes) world.StartAgent(name);
        foreach (var (name, _, _) in nodes) await world.WaitProgrammedAsync(name);

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

        // A block that joins the NodeSubnet is announced; when it leaves, it is withdrawn.
        await world.PatchSubnetSpecAsync("node2", new { cidrs = new[] { "10.244.2.0/24", "10.244.20.0/24" }, gateways = new[] { "10.244.2.1", "10.244.20.1" } });
        await world.EventuallyAsync(() => KernelHolds(router, "10.244.20.0/24", "192.168.1.12"), "the router learns node2's extra block");
        await world.PatchSubnetSpecAsync("node2", new { cidrs = new[] { "10.244.2.0/24" }, gateways = new[] { "10.244.2.1" } });
        await world.EventuallyAsync(() => !router.KernelRoutes().Contains("10.244.20.0/24"), "the router drops the block node2 gave back");

        // A NodeSubnet deleted: its agent ends its session with a Cease and the router forgets the block.
        await world.DeleteSubnetAsync("node2");
        await world.EventuallyAsync(() => !router.KernelRoutes().Contains("10.244.2.0/24"), "the router drops node2's block");
        Assert.True(KernelHolds(router, "10.244.1.0/24", "192.168.1.11"));
    }

    private static bool KernelHolds(FrrRouter router, string prefix, string via) =>
        router.KernelRoutes().Split('\n').Any(line => line.StartsWith(prefix + " ") && line.Contains($" via {via} "));

    private static Task CreateBgpSubnetAsync(AgentWorld world, string node, string address, string block) =>
        new CustomResourceClient<NodeSubnet>(world.Client).CreateAsync(new NodeSubnet
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
