using System.Net;
using Trellis.Addressing;
using Trellis.Crds;
using Trellis.NodeAgent.Planning;
using static Trellis.NodeAgent.Tests.Planning.SubnetBuilder;

namespace Trellis.NodeAgent.Tests.Planning;

public sealed class NodePlannerTests
{
    [Fact]
    public void Direct_routes_each_peer_block_via_the_peer_underlay_address()
    {
        var plan = Plan("node1", Classic());

        Assert.Equal(
            [new PlannedRoute(Cidr.Parse("10.244.2.0/24"), IPAddress.Parse("192.168.1.12"), RouteLink.Underlay),
             new PlannedRoute(Cidr.Parse("10.244.3.0/24"), IPAddress.Parse("192.168.1.13"), RouteLink.Underlay)],
            plan.Routes);
        Assert.Null(plan.Vxlan);
        Assert.Empty(plan.Fdb);
        Assert.Empty(plan.Neighbors);
        Assert.Empty(plan.VtepAddresses);
        Assert.Equal(1500, plan.PodMtu);
        Assert.Equal(new BridgeDevice("trellis0", 1500), plan.Bridge);
        Assert.Equal([IpPrefix.Parse("10.244.1.1/24")], plan.BridgeAddresses);
        Assert.True(plan.ForwardIPv4);
        Assert.False(plan.ForwardIPv6);
        Assert.Equal(2, plan.PeersRoutedByNetwork["pods"]);
        Assert.Empty(plan.Problems);
    }

    [Fact]
    public void Vxlan_plans_one_device_and_per_peer_fdb_neighbour_and_onlink_route()
    {
        var plan = Plan("node1", Classic(RoutingModes.Vxlan));

        var mac2 = MacAddress.Parse("0e:74:c0:a8:01:0c");
        var mac3 = MacAddress.Parse("0e:74:c0:a8:01:0d");
        Assert.Equal(new VxlanDevice("trellis.vxlan", 42, 4789, IPAddress.Parse("192.168.1.11"), 2, 1450, MacAddress.Parse("0e:74:c0:a8:01:0b")), plan.Vxlan);
        Assert.Equal([IpPrefix.Parse("10.244.1.0/32")], plan.VtepAddresses);
        Assert.Equal([new PlannedFdb(mac2, IPAddress.Parse("192.168.1.12")), new PlannedFdb(mac3, IPAddress.Parse("192.168.1.13"))], plan.Fdb);
        Assert.Equal([new PlannedNeighbor(IPAddress.Parse("10.244.2.0"), mac2), new PlannedNeighbor(IPAddress.Parse("10.244.3.0"), mac3)], plan.Neighbors);
        Assert.Equal(
            [new PlannedRoute(Cidr.Parse("10.244.2.0/24"), IPAddress.Parse("10.244.2.0"), RouteLink.Vxlan),
             new PlannedRoute(Cidr.Parse("10.244.3.0/24"), IPAddress.Parse("10.244.3.0"), RouteLink.Vxlan)],
            plan.Routes);
        Assert.Equal(1450, plan.PodMtu);
        Assert.Equal(1450, plan.Cni.Mtu);
        Assert.Equal(2, plan.PeersRoutedByNetwork["pods"]);
    }

    [Fact]
    public void Vxlan_mode_reserves_the_overhead_even_before_any_peer_exists()
    {
        var plan = Plan("node1", [Subnet("node1", "192.168.1.11", RoutingModes.Vxlan, ["10.244.1.0/24"])]);

        Assert.NotNull(plan.Vxlan);
        Assert.Equal(1450, plan.PodMtu);
        Assert.Empty(plan.Routes);
    }

    [Fact]
    public void Ipv6_underlay_costs_seventy_bytes_of_vxlan_overhead()
    {
        var subnets = new[]
        {
            Subnet("node1", "fd00::11", RoutingModes.Vxlan, ["10.244.1.0/24"]),
            Subnet("node2", "fd00::12", RoutingModes.Vxlan, ["10.244.2.0/24"]),
        };
        var plan = Plan("node1", subnets, Underlay("fd00::11/64", 9000));

        Assert.Equal(8930, plan.PodMtu);
        Assert.Equal(8930, plan.Vxlan!.Mtu);
        var peerMac = MacAddress.ForVtep(IPAddress.Parse("fd00::12"));
        Assert.Equal([new PlannedFdb(peerMac, IPAddress.Parse("fd00::12"))], plan.Fdb);
    }

    [Fact]
    public void Auto_goes_direct_on_the_own_segment_and_vxlan_beyond_it()
    {
        var subnets = new[]
        {
            Subnet("node1", "192.168.1.11", RoutingModes.Auto, ["10.244.1.0/24"]),
            Subnet("node2", "192.168.1.12", RoutingModes.Auto, ["10.244.2.0/24"]),
            Subnet("node3", "192.168.2.13", RoutingModes.Auto, ["10.244.3.0/24"]),
        };
        var plan = Plan("node1", subnets);

        Assert.Equal(
            [new PlannedRoute(Cidr.Parse("10.244.2.0/24"), IPAddress.Parse("192.168.1.12"), RouteLink.Underlay),
             new PlannedRoute(Cidr.Parse("10.244.3.0/24"), IPAddress.Parse("10.244.3.0"), RouteLink.Vxlan)],
            plan.Routes);
        Assert.Single(plan.Fdb);
        Assert.Equal(IPAddress.Parse("192.168.2.13"), plan.Fdb[0].Destination);
        Assert.Equal(1450, plan.PodMtu);
        Assert.NotNull(plan.Vxlan);
    }

    [Fact]
    public void Auto_with_every_peer_on_the_segment_uses_no_vxlan_and_the_full_mtu()
    {
        var plan = Plan("node1", Classic(RoutingModes.Auto));

        Assert.All(plan.Routes, r => Assert.Equal(RouteLink.Underlay, r.Link));
        Assert.Null(plan.Vxlan);
        Assert.Equal(1500, plan.PodMtu);
    }

    [Fact]
    public void An_explicit_mtu_wins_over_the_derived_one()
    {
        var subnets = Classic(RoutingModes.Vxlan).ToList();
        subnets[0] = Subnet("node1", "192.168.1.11", RoutingModes.Vxlan, ["10.244.1.0/24"], mtu: 1400);
        var plan = Plan("node1", subnets);

        Assert.Equal(1400, plan.PodMtu);
        Assert.Equal(1450, plan.Vxlan!.Mtu);
    }

    [Fact]
    public void Dual_stack_direct_routes_each_family_via_the_same_family_address()
    {
        var subnets = new[]
        {
            Subnet("node1", "192.168.1.11", RoutingModes.Direct, ["10.244.1.0/24", "fd10::1:0:0:0/80"], ["fd00::11"], networkCidrs: ["10.244.0.0/16", "fd10::/64"]),
            Subnet("node2", "192.168.1.12", RoutingModes.Direct, ["10.244.2.0/24", "fd10::2:0:0:0/80"], ["fd00::12"], networkCidrs: ["10.244.0.0/16", "fd10::/64"]),
        };
        var plan = Plan("node1", subnets, Underlay("192.168.1.11/24", 1500, "fd00::11/64"));

        Assert.Equal(
            [new PlannedRoute(Cidr.Parse("10.244.2.0/24"), IPAddress.Parse("192.168.1.12"), RouteLink.Underlay),
             new PlannedRoute(Cidr.Parse("fd10::2:0:0:0/80"), IPAddress.Parse("fd00::12"), RouteLink.Underlay)],
            plan.Routes);
        Assert.True(plan.ForwardIPv4);
        Assert.True(plan.ForwardIPv6);
        Assert.Equal([IpPrefix.Parse("10.244.1.1/24"), IpPrefix.Parse("fd10::1:0:0:1/80")], plan.BridgeAddresses);
        Assert.Equal(2, plan.Cni.RangeSets.Count);
        Assert.Equal("10.244.1.0/24", plan.Cni.RangeSets[0][0].Cidr.ToString());
        Assert.Equal(Cidr.Parse("fd10::1:0:0:0/80"), plan.Cni.RangeSets[1][0].Cidr);
    }

    [Fact]
    public void Dual_stack_vxlan_carries_both_families_over_one_ipv4_underlay()
    {
        var subnets = new[]
        {
            Subnet("node1", "192.168.1.11", RoutingModes.Vxlan, ["10.244.1.0/24", "fd10::1:0:0:0/80"]),
            Subnet("node2", "192.168.1.12", RoutingModes.Vxlan, ["10.244.2.0/24", "fd10::2:0:0:0/80"]),
        };
        var plan = Plan("node1", subnets);

        Assert.Equal([IpPrefix.Parse("10.244.1.0/32"), IpPrefix.Parse("fd10::1:0:0:0/128")], plan.VtepAddresses);
        Assert.Single(plan.Fdb);
        Assert.Equal(2, plan.Neighbors.Count);
        Assert.All(plan.Neighbors, n => Assert.Equal(MacAddress.ForVtep(IPAddress.Parse("192.168.1.12")), n.Mac));
        Assert.Equal(2, plan.Routes.Count);
        Assert.All(plan.Routes, r => Assert.Equal(RouteLink.Vxlan, r.Link));
    }

    [Fact]
    public void Direct_refuses_a_peer_off_the_segment_and_names_it()
    {
        var subnets = Classic().ToList();
        subnets[2] = Subnet("node3", "192.168.2.13", RoutingModes.Direct, ["10.244.3.0/24"]);
        var plan = Plan("node1", subnets);

        Assert.Single(plan.Routes);
        var problem = Assert.Single(plan.Problems);
        Assert.Contains("pods.node3", problem);
        Assert.Contains("10.244.3.0/24", problem);
        Assert.Equal(1, plan.PeersRoutedByNetwork["pods"]);
    }

    [Fact]
    public void A_peer_block_overlapping_another_is_not_routed()
    {
        var subnets = Classic().ToList();
        subnets.Add(Subnet("node4", "192.168.1.14", RoutingModes.Direct, ["10.244.2.0/25"]));
        var plan = Plan("node1", subnets);

        Assert.Equal(2, plan.Routes.Count);
        Assert.Contains(plan.Problems, p => p.Contains("pods.node4") && p.Contains("10.244.2.0/25"));
    }

    [Fact]
    public void A_bad_peer_is_skipped_with_its_name_and_a_bad_own_subnet_stops_the_plan()
    {
        var subnets = Classic().ToList();
        subnets[1].Spec.Cidrs = ["10.244.2.7/24"];
        var plan = Plan("node1", subnets);
        Assert.Single(plan.Routes);
        Assert.Contains(plan.Problems, p => p.Contains("pods.node2") && p.Contains("10.244.2.7/24"));

        Assert.False(OwnAndPeerSubnets.TryBuild("node2", subnets, out _, out var error));
        Assert.Contains("pods.node2", error);
        Assert.Contains("spec.cidrs[0]", error);
    }

    [Theory]
    [InlineData("Mesh", "spec.routing.mode")]
    [InlineData("vni", "spec.routing.vxlan.vni")]
    [InlineData("gateway", "spec.gateways[0]")]
    [InlineData("address", "spec.nodeAddresses")]
    [InlineData("network", "spec.networkCIDRs")]
    [InlineData("mtu", "spec.mtu: MTU 67 is outside 68..65535")]
    [InlineData("mtu-ipv6", "spec.mtu: MTU 1279 is below 1280")]
    [InlineData("draining-text", "spec.draining[0]")]
    [InlineData("draining-stranger", "spec.draining lists 10.244.9.0/24, not a block of spec.cidrs")]
    [InlineData("draining-first", "spec.draining lists 10.244.1.0/24, the node's first block of its family")]
    public void Each_invalid_field_is_named(string fault, string field)
    {
        var subnet = Subnet("node1", "192.168.1.11", RoutingModes.Direct, ["10.244.1.0/24"]);
        switch (fault)
        {
            case "Mesh": subnet.Spec.Routing.Mode = "Mesh"; break;
            case "vni": subnet.Spec.Routing.Vxlan.Vni = 0; break;
            case "gateway": subnet.Spec.Gateways = ["10.245.0.1"]; break;
            case "address": subnet.Spec.NodeAddresses = ["192.168.1.11/24"]; break;
            case "network": subnet.Spec.NetworkCidrs = ["10.244.0.0/8"]; break;
            case "mtu": subnet.Spec.Mtu = 67; break;
            case "mtu-ipv6": (subnet.Spec.Cidrs, subnet.Spec.Mtu) = (["10.244.1.0/24", "fd10::1:0:0:0/120"], 1279); break;
            case "draining-text": subnet.Spec.Draining = ["10.244.1.0/33"]; break;
            case "draining-stranger": subnet.Spec.Draining = ["10.244.9.0/24"]; break;
            case "draining-first": subnet.Spec.Draining = ["10.244.1.0/24"]; break;
        }
        Assert.False(SubnetFacts.TryParse(subnet, out _, out var error));
        Assert.Contains(field, error);
        Assert.Contains("pods.node1", error);
    }

    [Theory]
    [InlineData(0, new[] { "10.244.1.0/24", "fd10::1:0:0:0/120" })]
    [InlineData(68, new[] { "10.244.1.0/24" })]
    [InlineData(1279, new[] { "10.244.1.0/24" })]
    [InlineData(1280, new[] { "10.244.1.0/24", "fd10::1:0:0:0/120" })]
    [InlineData(65_535, new[] { "fd10::1:0:0:0/120" })]
    public void An_mtu_within_the_bounds_of_the_blocks_families_is_taken(int mtu, string[] blocks)
    {
        var subnet = Subnet("node1", "192.168.1.11", RoutingModes.Direct, blocks, mtu: mtu);

        Assert.True(SubnetFacts.TryParse(subnet, out var facts, out var error), error);
        Assert.Equal(mtu, facts.Mtu);
    }

    [Fact]
    public void The_plan_does_not_depend_on_the_order_of_the_subnets()
    {
        var subnets = Classic(RoutingModes.Vxlan).ToList();
        subnets.Add(Subnet("node4", "192.168.1.14", RoutingModes.Vxlan, ["10.244.4.0/24"]));
        var forward = Plan("node1", subnets);
        var backward = Plan("node1", Enumerable.Reverse(subnets));

        Assert.Equal(forward.Routes, backward.Routes);
        Assert.Equal(forward.Fdb, backward.Fdb);
        Assert.Equal(forward.Neighbors, backward.Neighbors);
    }

    [Fact]
    public void A_direct_block_of_a_network_the_node_is_not_in_is_routed_and_its_node_counted_once()
    {
        // "second" selects only node1: node2 and node3 are only in "pods", yet their pods must reach node1's "second" pods.
        var subnets = Classic().ToList();
        subnets.Add(Subnet("node1", "192.168.1.11", RoutingModes.Direct, ["10.250.0.0/26"], network: "second", networkCidrs: ["10.250.0.0/16"]));
        var plan = Plan("node2", subnets, Underlay("192.168.1.12/24"));

        Assert.Equal(
            [new PlannedRoute(Cidr.Parse("10.244.1.0/24"), IPAddress.Parse("192.168.1.11"), RouteLink.Underlay),
             new PlannedRoute(Cidr.Parse("10.244.3.0/24"), IPAddress.Parse("192.168.1.13"), RouteLink.Underlay),
             new PlannedRoute(Cidr.Parse("10.250.0.0/26"), IPAddress.Parse("192.168.1.11"), RouteLink.Underlay)],
            plan.Routes);
        Assert.Null(plan.Vxlan);
        Assert.Equal(2, plan.PeersRoutedByNetwork["pods"]);
        Assert.Single(plan.PeersRoutedByNetwork);
        Assert.Empty(plan.Problems);
        // The conflist and masquerade sources stay the node's own; the other network's range is still exempt from masquerade.
        Assert.Equal(["10.244.2.0/24"], plan.Cni.RangeSets.SelectMany(r => r).Select(b => b.Cidr.ToString()));
        Assert.Equal([Cidr.Parse("10.244.2.0/24")], plan.Masquerade!.Sources);
        Assert.Equal([Cidr.Parse("10.244.0.0/16"), Cidr.Parse("10.250.0.0/16")], plan.Masquerade.PodRanges);

        // node1, in both networks, routes its peers once and reports the same count on both of its NodeSubnets.
        var plan1 = Plan("node1", subnets);
        Assert.Equal(2, plan1.PeersRoutedByNetwork["pods"]);
        Assert.Equal(2, plan1.PeersRoutedByNetwork["second"]);
        Assert.Equal(2, plan1.Routes.Count);
    }

    [Fact]
    public void A_peer_node_with_one_unroutable_block_in_another_network_is_not_counted()
    {
        var subnets = Classic().ToList();
        subnets.Add(Subnet("node3", "192.168.1.13", RoutingModes.Direct, ["10.244.2.128/25"], network: "second"));
        var plan = Plan("node1", subnets);

        Assert.Equal(1, plan.PeersRoutedByNetwork["pods"]);
        Assert.Contains(plan.Problems, p => p.Contains("second.node3") && p.Contains("10.244.2.128/25"));
    }

    [Fact]
    public void A_block_of_a_network_the_node_is_not_in_follows_that_networks_vxlan_policy()
    {
        // The node's own network is Direct; the peer's network asks for VXLAN, so the node gets the device just for it.
        var subnets = Classic().ToList();
        subnets.Add(Subnet("node1", "192.168.1.11", RoutingModes.Vxlan, ["10.250.0.0/26"], network: "second", networkCidrs: ["10.250.0.0/16"], vni: 77));
        var plan = Plan("node2", subnets, Underlay("192.168.1.12/24"));

        var mac1 = MacAddress.Parse("0e:74:c0:a8:01:0b");
        Assert.Equal(new VxlanDevice("trellis.vxlan", 77, 4789, IPAddress.Parse("192.168.1.12"), 2, 1450, MacAddress.Parse("0e:74:c0:a8:01:0c")), plan.Vxlan);
        Assert.Contains(new PlannedRoute(Cidr.Parse("10.250.0.0/26"), IPAddress.Parse("10.250.0.0"), RouteLink.Vxlan), plan.Routes);
        Assert.Contains(new PlannedRoute(Cidr.Parse("10.244.1.0/24"), IPAddress.Parse("192.168.1.11"), RouteLink.Underlay), plan.Routes);
        Assert.Equal([new PlannedFdb(mac1, IPAddress.Parse("192.168.1.11"))], plan.Fdb);
        Assert.Equal([new PlannedNeighbor(IPAddress.Parse("10.250.0.0"), mac1)], plan.Neighbors);
        Assert.Equal([IpPrefix.Parse("10.244.2.0/32")], plan.VtepAddresses);
        Assert.Equal(1450, plan.PodMtu);
        Assert.Equal(2, plan.PeersRoutedByNetwork["pods"]);
        Assert.Empty(plan.Problems);
    }

    [Fact]
    public void An_auto_peer_of_another_network_off_the_segment_goes_over_vxlan()
    {
        var subnets = new[]
        {
            Subnet("node1", "192.168.1.11", RoutingModes.Direct, ["10.244.1.0/24"]),
            Subnet("node2", "192.168.1.12", RoutingModes.Direct, ["10.244.2.0/24"]),
            Subnet("node2", "192.168.1.12", RoutingModes.Auto, ["10.250.2.0/24"], network: "second"),
            Subnet("node3", "192.168.2.13", RoutingModes.Auto, ["10.250.3.0/24"], network: "second"),
        };
        var plan = Plan("node1", subnets);

        Assert.Equal(
            [new PlannedRoute(Cidr.Parse("10.244.2.0/24"), IPAddress.Parse("192.168.1.12"), RouteLink.Underlay),
             new PlannedRoute(Cidr.Parse("10.250.2.0/24"), IPAddress.Parse("192.168.1.12"), RouteLink.Underlay),
             new PlannedRoute(Cidr.Parse("10.250.3.0/24"), IPAddress.Parse("10.250.3.0"), RouteLink.Vxlan)],
            plan.Routes);
        Assert.NotNull(plan.Vxlan);
        Assert.Equal(2, plan.PeersRoutedByNetwork["pods"]);
    }

    [Fact]
    public void Two_vxlan_networks_with_one_vni_share_the_one_device()
    {
        var subnets = Classic(RoutingModes.Vxlan).ToList();
        subnets.Add(Subnet("node1", "192.168.1.11", RoutingModes.Vxlan, ["10.250.0.0/26"], network: "second"));
        subnets.Add(Subnet("node3", "192.168.1.13", RoutingModes.Vxlan, ["10.250.0.64/26"], network: "second"));
        var plan = Plan("node2", subnets, Underlay("192.168.1.12/24"));

        Assert.Equal("trellis.vxlan", plan.Vxlan!.Name);
        Assert.Equal(42, plan.Vxlan.Vni);
        Assert.Equal(4, plan.Routes.Count);
        Assert.All(plan.Routes, r => Assert.Equal(RouteLink.Vxlan, r.Link));
        Assert.Equal(2, plan.Fdb.Count);
        Assert.Equal(4, plan.Neighbors.Count);
        Assert.Equal(2, plan.PeersRoutedByNetwork["pods"]);
        Assert.Empty(plan.Problems);

        // The node in both networks holds a VTEP address for each of its blocks, on the same device.
        var plan1 = Plan("node1", subnets);
        Assert.Equal([IpPrefix.Parse("10.244.1.0/32"), IpPrefix.Parse("10.250.0.0/32")], plan1.VtepAddresses);
        Assert.Equal(2, plan1.PeersRoutedByNetwork["second"]);
        Assert.Empty(plan1.Problems);
    }

    [Fact]
    public void A_network_with_another_vni_is_refused_naming_both_subnets()
    {
        var subnets = Classic(RoutingModes.Vxlan).ToList();
        subnets.Add(Subnet("node1", "192.168.1.11", RoutingModes.Vxlan, ["10.250.0.0/26"], network: "second", vni: 43));
        var plan = Plan("node2", subnets, Underlay("192.168.1.12/24"));

        Assert.Equal(42, plan.Vxlan!.Vni);
        Assert.DoesNotContain(plan.Routes, r => r.Destination == Cidr.Parse("10.250.0.0/26"));
        Assert.DoesNotContain(plan.Neighbors, n => n.Address.Equals(IPAddress.Parse("10.250.0.0")));
        Assert.Equal(2, plan.Routes.Count);
        var problem = Assert.Single(plan.Problems);
        Assert.Contains("second.node1", problem);
        Assert.Contains("pods.node2", problem);
        Assert.Contains("43", problem);
        Assert.Contains("10.250.0.0/26", problem);
        // node1 is not fully routed any more: one of its blocks is refused.
        Assert.Equal(1, plan.PeersRoutedByNetwork["pods"]);

        // On node1 itself the conflict is between its own two NodeSubnets: the first by name keeps the device.
        var plan1 = Plan("node1", subnets);
        Assert.Equal(42, plan1.Vxlan!.Vni);
        var own = Assert.Single(plan1.Problems);
        Assert.Contains("second.node1", own);
        Assert.Contains("pods.node1", own);
    }

    [Fact]
    public void Gateways_default_to_the_first_host_and_follow_the_spec_when_given()
    {
        var subnet = Subnet("node1", "192.168.1.11", RoutingModes.Direct, ["10.244.1.0/24", "10.244.9.0/24"]);
        subnet.Spec.Gateways = ["10.244.1.254"];
        var plan = Plan("node1", [subnet]);

        Assert.Equal([IpPrefix.Parse("10.244.1.254/24"), IpPrefix.Parse("10.244.9.1/24")], plan.BridgeAddresses);
        var set = Assert.Single(plan.Cni.RangeSets);
        Assert.Equal(2, set.Count);
    }

    [Fact]
    public void Masquerade_covers_own_blocks_and_exempts_every_pod_range()
    {
        var subnets = Classic().ToList();
        subnets.Add(Subnet("node9", "192.168.1.19", RoutingModes.Direct, ["10.250.9.0/24"], network: "other", networkCidrs: ["10.250.0.0/16"]));
        var plan = Plan("node1", subnets);

        Assert.NotNull(plan.Masquerade);
        Assert.Equal([Cidr.Parse("10.244.1.0/24")], plan.Masquerade!.Sources);
        Assert.Equal([Cidr.Parse("10.244.0.0/16"), Cidr.Parse("10.250.0.0/16")], plan.Masquerade.PodRanges);
    }

    [Fact]
    public void Without_nat_outgoing_there_is_no_masquerade()
    {
        var plan = Plan("node1", [Subnet("node1", "192.168.1.11", RoutingModes.Direct, ["10.244.1.0/24"], nat: false)]);
        Assert.Null(plan.Masquerade);
    }

    [Fact]
    public void Collapse_drops_ranges_inside_others()
    {
        var collapsed = NodePlanner.Collapse(new[] {"10.244.1.0/24", "10.0.0.0/8", "10.244.0.0/16", "fd00::/8", "fd00::1:0/112", "192.168.0.0/16" }
            .Select(Cidr.Parse));
        Assert.Equal(new[] { "10.0.0.0/8", "192.168.0.0/16", "fd00::/8" }, collapsed.Select(c => c.ToString()));
    }

    /// <summary>A draining block stays the node's (gateway, VTEP, peers route it) but the conflist offers it to no new pod.</summary>
    [Fact]
    public void A_draining_block_keeps_its_gateway_and_routes_but_leaves_the_conflist()
    {
        var own = Subnet("node1", "192.168.1.11", RoutingModes.Direct, ["10.244.1.0/24", "10.244.9.0/24"]);
        own.Spec.Draining = ["10.244.9.0/24"];
        var plan = Plan("node1", [own, Subnet("node2", "192.168.1.12", RoutingModes.Direct, ["10.244.2.0/24"])]);
        Assert.Equal(["10.244.1.1/24", "10.244.9.1/24"], plan.BridgeAddresses.Select(a => a.ToString()));
        Assert.Equal(["10.244.1.0/24"], plan.Cni.RangeSets.SelectMany(r => r).Select(b => b.Cidr.ToString()));

        var peerView = Plan("node2", [own, Subnet("node2", "192.168.1.12", RoutingModes.Direct, ["10.244.2.0/24"])]);
        Assert.Contains(peerView.Routes, r => r.Destination.ToString() == "10.244.9.0/24");
    }
}
