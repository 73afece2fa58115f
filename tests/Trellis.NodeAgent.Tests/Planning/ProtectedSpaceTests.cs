using System.Net;
using Trellis.Addressing;
using Trellis.Crds;
using Trellis.NodeAgent.Planning;
using static Trellis.NodeAgent.Tests.Planning.SubnetBuilder;

namespace Trellis.NodeAgent.Tests.Planning;

/// <summary>No NodeSubnet, own or peer, can make the agent touch the node's own network (issue 8, defect 2).</summary>
public sealed class ProtectedSpaceTests
{
    private static readonly ProtectedSpace Guard = ProtectedSpace.Of(
        [new LinkAddress("eth0", IpPrefix.Parse("192.168.1.11/24")), new LinkAddress("eth0", IpPrefix.Parse("fd00::11/64")),
         new LinkAddress("docker0", IpPrefix.Parse("172.17.0.1/16")), new LinkAddress("lo", IpPrefix.Parse("127.0.0.1/8"))],
        [IPAddress.Parse("192.168.1.254"), IPAddress.Parse("fd00::1")],
        [IPAddress.Parse("10.96.0.1")]);

    [Theory]
    [InlineData("192.168.1.0/28", "the subnet 192.168.1.0/24 of the node's address 192.168.1.11 on eth0")]
    [InlineData("192.168.0.0/16", "the subnet 192.168.1.0/24")]
    [InlineData("192.168.1.11/32", "192.168.1.11 on eth0")]
    [InlineData("172.17.5.0/24", "on docker0")]
    [InlineData("10.96.0.0/24", "the API server's address 10.96.0.1")]
    [InlineData("127.0.0.0/24", "loopback")]
    [InlineData("169.254.1.0/24", "link-local")]
    [InlineData("224.1.0.0/16", "multicast")]
    [InlineData("0.0.0.0/8", "'this network'")]
    [InlineData("10.0.0.0/7", "shorter than /8")]
    [InlineData("0.0.0.0/0", "shorter than /8")]
    [InlineData("fd00::/80", "the subnet fd00::/64 of the node's address fd00::11 on eth0")]
    [InlineData("fe80::/64", "link-local")]
    [InlineData("ff02::1:0/112", "multicast")]
    [InlineData("::1/128", "loopback")]
    [InlineData("2001:db8::/31", "shorter than /32")]
    [InlineData("::/0", "shorter than /32")]
    public void Dangerous_blocks_are_refused_naming_what_they_touch(string block, string expected)
    {
        var reason = Guard.Refusal(Cidr.Parse(block));
        Assert.NotNull(reason);
        Assert.Contains(expected, reason);
    }

    [Theory]
    [InlineData("10.244.1.0/24")]
    [InlineData("11.0.0.0/8")]
    [InlineData("192.168.2.0/24")]
    [InlineData("fd10::1:0:0:0/80")]
    [InlineData("2001:db8::/32")]
    public void Ordinary_blocks_pass(string block) => Assert.Null(Guard.Refusal(Cidr.Parse(block)));

    [Fact]
    public void A_peer_block_over_the_underlay_is_not_routed_and_the_peer_not_counted()
    {
        var subnets = Classic().Append(Subnet("ghost", "192.168.1.99", RoutingModes.Direct, ["192.168.1.0/28"])).ToList();
        var plan = Plan("node1", subnets);

        Assert.DoesNotContain(plan.Routes, r => r.Destination.Overlaps(Cidr.Parse("192.168.1.0/24")));
        Assert.Equal(2, plan.Routes.Count);
        Assert.Equal(2, plan.PeersRoutedByNetwork["pods"]);
        var refusal = Assert.Single(plan.Refusals);
        Assert.Equal(("pods.ghost", false), (refusal.Subnet, refusal.Own));
        Assert.Contains(plan.Problems, p => p.Contains("pods.ghost") && p.Contains("192.168.1.0/28") && p.Contains("192.168.1.0/24"));
    }

    [Fact]
    public void An_own_block_over_the_underlay_never_reaches_the_bridge_the_conflist_or_the_vtep()
    {
        var subnets = Classic(RoutingModes.Vxlan).ToList();
        subnets[0] = Subnet("node1", "192.168.1.11", RoutingModes.Vxlan, ["10.244.1.0/24", "192.168.1.64/26"]);
        var plan = Plan("node1", subnets);

        Assert.Equal([IpPrefix.Parse("10.244.1.1/24")], plan.BridgeAddresses);
        Assert.Equal([IpPrefix.Parse("10.244.1.0/32")], plan.VtepAddresses);
        Assert.Equal(["10.244.1.0/24"], plan.Cni.RangeSets.SelectMany(set => set).Select(b => b.Cidr.ToString()));
        Assert.Equal(["10.244.1.0/24"], plan.Masquerade!.Sources.Select(c => c.ToString()));
        var refusal = Assert.Single(plan.Refusals);
        Assert.Equal(("pods.node1", true, "192.168.1.64/26"), (refusal.Subnet, refusal.Own, refusal.Block.ToString()));
        Assert.Empty(plan.Problems);
    }

    [Fact]
    public void A_peer_block_holding_the_api_server_is_not_routed()
    {
        var guard = ProtectedSpace.Of([new LinkAddress("eth0", IpPrefix.Parse("192.168.1.11/24"))], [], [IPAddress.Parse("10.200.0.10")]);
        var subnets = Classic().Append(Subnet("node4", "192.168.1.14", RoutingModes.Direct, ["10.200.0.0/24"])).ToList();
        var plan = Plan("node1", subnets, guard: guard);

        Assert.DoesNotContain(plan.Routes, r => r.Destination.Contains(IPAddress.Parse("10.200.0.10")));
        Assert.Contains("the API server's address 10.200.0.10", Assert.Single(plan.Refusals).Reason);
    }

    [Fact]
    public void A_peer_without_a_node_address_is_held_not_routed_and_no_problem()
    {
        var subnets = Classic().ToList();
        subnets[2].Spec.NodeAddresses = [];
        var plan = Plan("node1", subnets);

        Assert.Single(plan.Routes);
        Assert.Empty(plan.Problems);
        Assert.Equal(1, plan.PeersRoutedByNetwork["pods"]);
    }
}
