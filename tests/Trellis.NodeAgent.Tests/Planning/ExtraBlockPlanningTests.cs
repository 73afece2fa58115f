using System.Net;
using System.Text.Json.Nodes;
using Trellis.Addressing;
using Trellis.Crds;
using Trellis.NodeAgent.Planning;
using Trellis.NodeAgent.Reconciling;
using static Trellis.NodeAgent.Tests.Planning.SubnetBuilder;

namespace Trellis.NodeAgent.Tests.Planning;

/// <summary>A node given extra blocks: every block gets its gateway, every peer routes every block, the plugin allocates from all.</summary>
public sealed class ExtraBlockPlanningTests
{
    private static IReadOnlyList<NodeSubnet> Grown(string mode) =>
    [
        Subnet("node1", "192.168.1.11", mode, ["10.244.1.0/28", "10.244.1.32/28"]),
        Subnet("node2", "192.168.1.12", mode, ["10.244.1.16/28", "10.244.1.48/28", "10.244.1.64/28"]),
    ];

    [Fact]
    public void Every_block_gets_its_gateway_and_the_conflist_lists_the_blocks_of_a_family_as_one_range_set_in_spec_order()
    {
        var plan = Plan("node1", Grown(RoutingModes.Direct));
        Assert.Equal([IpPrefix.Parse("10.244.1.1/28"), IpPrefix.Parse("10.244.1.33/28")], plan.BridgeAddresses);
        var set = Assert.Single(plan.Cni.RangeSets);
        Assert.Equal(["10.244.1.0/28", "10.244.1.32/28"], set.Select(b => b.Cidr.ToString()));

        var conflist = JsonNode.Parse(CniConflist.Render(plan.Cni))!;
        var ranges = conflist["plugins"]![0]!["ipam"]!["ranges"]!.AsArray();
        var only = Assert.Single(ranges)!.AsArray();
        Assert.Equal(["10.244.1.0/28", "10.244.1.32/28"], only.Select(r => (string)r!["subnet"]!));
        Assert.Equal(["10.244.1.1", "10.244.1.33"], only.Select(r => (string)r!["gateway"]!));
    }

    [Theory]
    [InlineData(RoutingModes.Direct)]
    [InlineData(RoutingModes.Auto)]
    public void Every_block_of_every_peer_is_routed_directly(string mode)
    {
        var plan = Plan("node1", Grown(mode));
        var peer = IPAddress.Parse("192.168.1.12");
        Assert.Equal(
            [new PlannedRoute(Cidr.Parse("10.244.1.16/28"), peer, RouteLink.Underlay),
             new PlannedRoute(Cidr.Parse("10.244.1.48/28"), peer, RouteLink.Underlay),
             new PlannedRoute(Cidr.Parse("10.244.1.64/28"), peer, RouteLink.Underlay)],
            plan.Routes);
        Assert.Equal(1, plan.PeersRoutedByNetwork["pods"]);
        Assert.Empty(plan.Problems);
    }

    [Fact]
    public void Every_block_of_every_peer_is_routed_over_vxlan_through_one_fdb_entry()
    {
        var plan = Plan("node1", Grown(RoutingModes.Vxlan));
        Assert.Equal(["10.244.1.16/28", "10.244.1.48/28", "10.244.1.64/28"], plan.Routes.Select(r => r.Destination.ToString()));
        Assert.All(plan.Routes, r => Assert.Equal(RouteLink.Vxlan, r.Link));
        Assert.Single(plan.Fdb);
        Assert.Equal(3, plan.Neighbors.Count);
        Assert.Equal([IpPrefix.Parse("10.244.1.0/32"), IpPrefix.Parse("10.244.1.32/32")], plan.VtepAddresses);
    }

    [Fact]
    public void Releasing_an_extra_block_removes_only_its_gateway_and_its_route_on_the_peers()
    {
        var before = Plan("node1", Grown(RoutingModes.Direct));
        IReadOnlyList<NodeSubnet> released =
        [
            Subnet("node1", "192.168.1.11", RoutingModes.Direct, ["10.244.1.0/28"]),
            Subnet("node2", "192.168.1.12", RoutingModes.Direct, ["10.244.1.16/28", "10.244.1.64/28"]),
        ];
        var after = Plan("node1", released);
        var gateways = AddressDiff.Compute(after.BridgeAddresses, before.BridgeAddresses);
        Assert.Empty(gateways.Add);
        Assert.Equal([IpPrefix.Parse("10.244.1.33/28")], gateways.Delete);
        static KernelRoute Kernel(PlannedRoute r) => new(r.Destination, r.Gateway, 2, false, TrellisProtocol.Number);
        var routes = RouteDiff.Compute(after.Routes.Select(Kernel).ToList(), before.Routes.Select(Kernel).ToList());
        Assert.Equal(["10.244.1.48/28"], routes.Delete.Select(r => r.Destination.ToString()));
        Assert.Empty(routes.Replace);
    }
}
