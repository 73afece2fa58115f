using Trellis.Addressing;
using k8s.Models;
using Trellis.Crds;
using Trellis.Operator.Facts;
using Trellis.Operator.Planning;
using Trellis.Operator.Validation;
using Xunit;

namespace Trellis.Operator.Tests.Planning;

/// <summary>routing.bgp: validated by the operator, and reflected into each node's NodeSubnet with only that node's peers.</summary>
public sealed class BgpPolicyTests
{
    private static PodNetwork BgpNetwork(Action<BgpSpec>? change = null)
    {
        var network = TestObjects.Network("pods", "10.244.0.0/16", "fd00:10:244::/56");
        network.Spec.Routing = new RoutingSpec
        {
            Mode = RoutingModes.Bgp,
            Bgp = new BgpSpec
            {
                Asn = 64512,
                HoldTime = 30,
                GracefulRestart = new GracefulRestartSpec { Enabled = true, RestartTime = 60 },
                Peers =
                [
                    new BgpPeerSpec { Address = "192.168.1.1", Asn = 65000, NodeSelector = Rack("rack1") },
                    new BgpPeerSpec { Address = "192.168.2.1", Asn = 65000, Password = "secret", NodeSelector = Rack("rack2") },
                    new BgpPeerSpec { Address = "fd00:1::1", Asn = 4200000000 },
                ],
            },
        };
        change?.Invoke(network.Spec.Routing.Bgp!);
        return network;
    }

    private static ValidationVerdict Alone(PodNetwork network) =>
        new PodNetworkValidation().Evaluate(new PodNetworkInCluster(PodNetworkFacts.Parse(network), [], [], []));

    private static V1LabelSelector Rack(string rack) => new() { MatchLabels = new Dictionary<string, string> { ["rack"] = rack } };

    [Fact]
    public void Each_node_gets_the_peers_that_select_it_without_selectors()
    {
        var node = TestObjects.Node("n1", "192.168.2.11");
        node.Metadata.Labels = new Dictionary<string, string> { ["rack"] = "rack2" };

        var bgp = TestObjects.Plan(BgpNetwork(), node, [Cidr.Parse("10.244.2.0/24")])!.Spec.Routing.Bgp!;

        Assert.Equal(RoutingModes.Bgp, TestObjects.Plan(BgpNetwork(), node, [Cidr.Parse("10.244.2.0/24")])!.Spec.Routing.Mode);
        Assert.Equal(["192.168.2.1", "fd00:1::1"], bgp.Peers.Select(p => p.Address));
        Assert.Equal("secret", bgp.Peers[0].Password);
        Assert.All(bgp.Peers, p => Assert.Null(p.NodeSelector));
        Assert.Equal((64512L, 30, true, 60), (bgp.Asn, bgp.HoldTime, bgp.GracefulRestart.Enabled, bgp.GracefulRestart.RestartTime));
    }

    [Fact]
    public void A_changed_peer_rewrites_the_nodesubnet_and_an_unrelated_one_does_not()
    {
        var node = TestObjects.Node("n1", "192.168.1.11");
        node.Metadata.Labels = new Dictionary<string, string> { ["rack"] = "rack1" };
        var before = TestObjects.Plan(BgpNetwork(), node, [Cidr.Parse("10.244.1.0/24")])!;

        var otherRack = TestObjects.Plan(BgpNetwork(b => b.Peers[1].Password = "rotated"), node, [Cidr.Parse("10.244.1.0/24")])!;
        Assert.False(NodeSubnetPlanner.NeedsUpdate(before, otherRack));
        var ownRack = TestObjects.Plan(BgpNetwork(b => b.Peers[0].Asn = 65001), node, [Cidr.Parse("10.244.1.0/24")])!;
        Assert.True(NodeSubnetPlanner.NeedsUpdate(before, ownRack));
    }

    [Fact]
    public void A_sound_bgp_network_is_valid()
    {
        var verdict = Alone(BgpNetwork());
        Assert.True(verdict.Valid, verdict.Message);
    }

    public static TheoryData<string, string> Refusals => new()
    {
        { "no bgp", "routing mode BGP needs routing.bgp" },
        { "no peers", "routing.bgp has no peers" },
        { "asn 0", "AS number 0 is outside 1..4294967295" },
        { "hold 2", "hold time 2 s must be 0 or within 3..65535" },
        { "restart 5000", "graceful restart time 5000 s is outside 0..4095" },
        { "bad address", "BGP peer address \"192.168.1.300\" is not an IP address" },
        { "uncanonical address", "BGP peer address \"fd00:1:0::1\" is not an IP address in canonical form" },
        { "twice", "BGP peer 192.168.1.1 is listed twice" },
        { "peer asn", "AS number 4294967296 is outside" },
        { "port", "port 0 is outside 1..65535" },
        { "password", "a TCP MD5 password must be 1..80 octets" },
        { "selector", "nodeSelector" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Impossible_bgp_settings_are_refused_naming_the_network_and_the_field(string change, string expected)
    {
        var network = BgpNetwork(bgp =>
        {
            switch (change)
            {
                case "no peers": bgp.Peers.Clear(); break;
                case "asn 0": bgp.Asn = 0; break;
                case "hold 2": bgp.HoldTime = 2; break;
                case "restart 5000": bgp.GracefulRestart.RestartTime = 5000; break;
                case "bad address": bgp.Peers[0].Address = "192.168.1.300"; break;
                case "uncanonical address": bgp.Peers[2].Address = "fd00:1:0::1"; break;
                case "twice": bgp.Peers[1].Address = "192.168.1.1"; break;
                case "peer asn": bgp.Peers[0].Asn = 4294967296; break;
                case "port": bgp.Peers[0].Port = 0; break;
                case "password": bgp.Peers[0].Password = new string('x', 81); break;
                case "selector": bgp.Peers[0].NodeSelector = new V1LabelSelector { MatchExpressions = [new V1LabelSelectorRequirement { Key = "rack", OperatorProperty = "Near" }] }; break;
            }
        });
        if (change == "no bgp") network.Spec.Routing.Bgp = null;

        var verdict = Alone(network);

        Assert.False(verdict.Valid);
        Assert.Contains("PodNetwork pods", verdict.Message);
        Assert.Contains(expected, verdict.Message);
    }

    [Fact]
    public void Bgp_alongside_another_mode_only_announces_and_is_valid()
    {
        var network = BgpNetwork();
        network.Spec.Routing.Mode = RoutingModes.Vxlan;
        Assert.True(Alone(network).Valid);
    }
}
