using Trellis.Addressing;
using Trellis.Testing;
using Xunit;

namespace Trellis.Netlink.Tests;

public sealed class GatewayBridgeTests
{
    [Fact]
    public void The_bridge_is_made_once_brought_up_and_holds_each_gateway_once_without_duplicate_address_detection()
    {
        using var ns = NetworkNamespace.Create("nl-gw");
        IpPrefix[] gateways = [IpPrefix.Parse("10.244.1.1/24"), IpPrefix.Parse("fd00:10:244:1::1/64")];

        var (first, second) = NetworkNamespaceRunner.Run(ns.Path, () =>
        {
            using var nl = NetlinkHandle.Open();
            var made = GatewayBridge.Ensure(nl, "trellis0", 1400, out bool created);
            GatewayBridge.AddGateways(nl, made, gateways);
            // A second maker (the plugin after the agent, a twin ADD) finds it ready and changes nothing.
            var found = GatewayBridge.Ensure(nl, "trellis0", 9000, out bool createdAgain);
            GatewayBridge.AddGateways(nl, found, gateways);
            Assert.Equal("0", Sysctl.Read("net/ipv6/conf/trellis0/accept_dad"));
            return ((made.Index, created), (found.Index, createdAgain));
        });

        Assert.True(first.created);
        Assert.Equal((first.Index, false), second);
        var shown = ns.Exec("ip", "addr", "show", "dev", "trellis0");
        Assert.Contains("mtu 1400", shown);
        Assert.Matches("<[^>]*\\bUP\\b", shown);
        Assert.Single(shown.Split('\n'), line => line.Contains("inet 10.244.1.1/24"));
        Assert.Single(shown.Split('\n'), line => line.Contains("inet6 fd00:10:244:1::1/64"));
    }

    [Fact]
    public void A_link_of_another_kind_under_the_name_is_refused_by_name_and_left_alone()
    {
        using var ns = NetworkNamespace.Create("nl-gw");
        using var nl = NetlinkHandle.OpenNamespace(ns.Path);
        nl.AddVethPair("trellis0", "spare0");

        var error = Assert.Throws<InvalidOperationException>(() => GatewayBridge.Ensure(nl, "trellis0", null, out _));

        Assert.Equal("bridge trellis0: a link of that name exists but is a veth, not a bridge", error.Message);
        var left = nl.GetLink("trellis0");
        Assert.Equal("veth", left.Kind);
        Assert.False(left.IsUp);
    }
}
