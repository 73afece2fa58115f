using System.Net;
using Trellis.Addressing;
using Trellis.Bgp.Speaker;
using Trellis.Crds;
using Trellis.NodeAgent.Bgp;
using Trellis.NodeAgent.Planning;
using static Trellis.NodeAgent.Tests.Planning.SubnetBuilder;

namespace Trellis.NodeAgent.Tests.Planning;

/// <summary>BGP mode: no route to a peer's block, and the speaker told to announce exactly the node's own blocks.</summary>
public sealed class BgpPlanningTests
{
    private static NodeSubnet BgpSubnet(string node, string address, string[] cidrs, string[]? extra = null, string mode = RoutingModes.Bgp,
        long asn = 64512, string network = "pods", params BgpPeerSpec[] peers)
    {
        var subnet = Subnet(node, address, mode, cidrs, extra, network: network, networkCidrs: ["10.244.0.0/16", "fd00:10:244::/56"]);
        subnet.Spec.Routing.Bgp = new BgpSpec
        {
            Asn = asn,
            HoldTime = 30,
            Peers = peers.Length > 0 ? peers : [new BgpPeerSpec { Address = "192.168.1.1", Asn = 65000, Password = "pw" }],
        };
        return subnet;
    }

    private static OwnAndPeerSubnets View(string node, params NodeSubnet[] subnets)
    {
        Assert.True(OwnAndPeerSubnets.TryBuild(node, subnets, out var view, out var error), error);
        return view;
    }

    [Fact]
    public void Bgp_peers_get_no_route_and_count_as_reached_through_the_router()
    {
        var plan = Plan("node1", [
            BgpSubnet("node1", "192.168.1.11", ["10.244.1.0/24"]),
            BgpSubnet("node2", "192.168.1.12", ["10.244.2.0/24"]),
            BgpSubnet("node3", "192.168.2.13", ["10.244.3.0/24"]),
        ]);

        Assert.Empty(plan.Routes);
        Assert.Null(plan.Vxlan);
        Assert.Equal(1500, plan.PodMtu);
        Assert.Equal(2, plan.PeersRoutedByNetwork["pods"]);
        Assert.Empty(plan.Problems);
    }

    [Fact]
    public void A_peer_announcing_over_bgp_in_another_mode_is_still_routed_directly()
    {
        var plan = Plan("node1", [
            BgpSubnet("node1", "192.168.1.11", ["10.244.1.0/24"], mode: RoutingModes.Direct),
            BgpSubnet("node2", "192.168.1.12", ["10.244.2.0/24"], mode: RoutingModes.Direct),
        ]);
        Assert.Equal([new PlannedRoute(Cidr.Parse("10.244.2.0/24"), IPAddress.Parse("192.168.1.12"), RouteLink.Underlay)], plan.Routes);
    }

    [Fact]
    public void The_speaker_announces_exactly_the_nodes_blocks_of_every_family_with_its_own_next_hops()
    {
        var plan = BgpPlanner.Plan(View("node1",
            BgpSubnet("node1", "192.168.1.11", ["10.244.1.0/24", "10.244.200.0/24", "fd00:10:244:1::/64"], ["fd00:1::11"]),
            BgpSubnet("node2", "192.168.1.12", ["10.244.2.0/24"])));

        var configuration = plan.Configuration;
        Assert.Equal(64512u, configuration.Asn);
        Assert.Equal(IPAddress.Parse("192.168.1.11"), configuration.RouterId);
        Assert.Equal(["10.244.1.0/24", "10.244.200.0/24", "fd00:10:244:1::/64"], configuration.Prefixes.Select(p => p.ToString()));
        Assert.Equal((IPAddress.Parse("192.168.1.11"), IPAddress.Parse("fd00:1::11")), (configuration.IPv4NextHop, configuration.IPv6NextHop));
        Assert.Equal([new BgpPeer(IPAddress.Parse("192.168.1.1"), 65000, 179, "pw", TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(120))], configuration.Peers);
        Assert.Equal([IPAddress.Parse("192.168.1.1")], plan.PeersBySubnet["pods.node1"]);
        Assert.Empty(plan.Problems);
        Assert.Empty(configuration.Validate());
    }

    [Fact]
    public void A_block_of_a_family_the_node_has_no_address_of_is_reported()
    {
        var plan = BgpPlanner.Plan(View("node1", BgpSubnet("node1", "192.168.1.11", ["10.244.1.0/24", "fd00:10:244:1::/64"])));
        Assert.Contains("block fd00:10:244:1::/64 is not announced: the node has no IPv6 address", Assert.Single(plan.Problems));
        Assert.False(plan.Configuration.Routes().ContainsKey(Cidr.Parse("fd00:10:244:1::/64")));
    }

    [Fact]
    public void Two_networks_in_different_ases_on_one_node_are_refused_for_the_second()
    {
        var plan = BgpPlanner.Plan(View("node1",
            BgpSubnet("node1", "192.168.1.11", ["10.244.1.0/24"], network: "a"),
            BgpSubnet("node1", "192.168.1.11", ["10.245.1.0/24"], network: "b", asn: 65123)));
        Assert.Equal([Cidr.Parse("10.244.1.0/24")], plan.Configuration.Prefixes);
        Assert.Contains("BGP AS 65123 differs from AS 64512", Assert.Single(plan.Problems));
    }

    [Fact]
    public void No_bgp_no_peers_nothing_announced()
    {
        var plan = BgpPlanner.Plan(View("node1", Subnet("node1", "192.168.1.11", RoutingModes.Direct, ["10.244.1.0/24"])));
        Assert.False(plan.HasPeers);
        Assert.Empty(plan.Configuration.Prefixes);
    }

    [Fact]
    public void An_ipv6_only_node_gets_a_stable_non_zero_router_id()
    {
        var plan = BgpPlanner.Plan(View("node-v6", BgpSubnet("node-v6", "fd00:1::11", ["fd00:10:244:1::/64"],
            peers: new BgpPeerSpec { Address = "fd00:1::1", Asn = 65000 })));
        Assert.Equal(BgpPlanner.RouterIdFor("node-v6"), plan.Configuration.RouterId);
        Assert.NotEqual(IPAddress.Any, plan.Configuration.RouterId);
        Assert.Empty(plan.Configuration.Validate());
    }

    [Theory]
    [InlineData("asn", "spec.routing.bgp.asn 0 is outside")]
    [InlineData("hold", "spec.routing.bgp.holdTime 2 must be 0 or within 3..65535")]
    [InlineData("address", "spec.routing.bgp.peers[0].address \"router\" is not an IP address")]
    [InlineData("missing", "spec.routing.mode is BGP but spec.routing.bgp is absent")]
    public void A_bad_bgp_policy_is_refused_naming_the_field(string fault, string expected)
    {
        var subnet = BgpSubnet("node1", "192.168.1.11", ["10.244.1.0/24"]);
        switch (fault)
        {
            case "asn": subnet.Spec.Routing.Bgp!.Asn = 0; break;
            case "hold": subnet.Spec.Routing.Bgp!.HoldTime = 2; break;
            case "address": subnet.Spec.Routing.Bgp!.Peers[0].Address = "router"; break;
            case "missing": subnet.Spec.Routing.Bgp = null; break;
        }
        Assert.False(SubnetFacts.TryParse(subnet, out _, out var error));
        Assert.Contains("NodeSubnet pods.node1", error);
        Assert.Contains(expected, error);
    }
}
