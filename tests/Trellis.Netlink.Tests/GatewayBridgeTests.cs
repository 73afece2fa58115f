using System.Net.NetworkInformation;
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

    /// <summary>
    /// A bridge without a MAC of its own takes its lowest port's, so it changes as pods come and go, and every pod
    /// whose neighbour cache holds the old one loses its gateway (found by the block-growth test: a pod on node1 could
    /// not reach node2 once 20 other pods left, the bridge having taken another veth's MAC).
    /// </summary>
    [Fact]
    public void The_bridge_keeps_its_MAC_while_ports_with_lower_MACs_come_and_go()
    {
        using var ns = NetworkNamespace.Create("nl-gw");
        using var nl = NetlinkHandle.OpenNamespace(ns.Path);
        var bridge = GatewayBridge.Ensure(nl, "trellis0", null, out _);
        var born = bridge.HardwareAddress!;
        Assert.Equal(0x02, born.GetAddressBytes()[0] & 0x03); // unicast, locally administered

        foreach (var (port, mac) in new[] { ("vethlow", "020000000001"), ("vethhigh", "FEFFFFFFFFFE") })
        {
            AttachPort(nl, bridge, port, mac);
            Assert.Equal(born, nl.GetLink("trellis0").HardwareAddress);
        }
        nl.DeleteLink(nl.GetLink("vethlow"));
        nl.DeleteLink(nl.GetLink("vethhigh"));
        Assert.Equal(born, nl.GetLink("trellis0").HardwareAddress);
    }

    /// <summary>A bridge made without a MAC (an older Trellis, another tool) is pinned to the one it has, ports' later changes aside.</summary>
    [Fact]
    public void A_bridge_made_without_a_MAC_keeps_the_one_it_has_once_pinned()
    {
        using var ns = NetworkNamespace.Create("nl-gw");
        using var nl = NetlinkHandle.OpenNamespace(ns.Path);
        nl.AddBridge("trellis0");
        AttachPort(nl, nl.GetLink("trellis0"), "vethfirst", "0A0000000005");
        var followed = nl.GetLink("trellis0");
        Assert.Equal(PhysicalAddress.Parse("0A0000000005"), followed.HardwareAddress); // the kernel's choice: the lowest port

        GatewayBridge.PinHardwareAddress(nl, followed);
        AttachPort(nl, followed, "vethlower", "020000000001");
        nl.DeleteLink(nl.GetLink("vethfirst"));

        Assert.Equal(PhysicalAddress.Parse("0A0000000005"), nl.GetLink("trellis0").HardwareAddress);
    }

    private static void AttachPort(NetlinkHandle nl, Link bridge, string name, string mac)
    {
        nl.AddVethPair(name, name + "p");
        var port = nl.GetLink(name);
        nl.SetHardwareAddress(port, PhysicalAddress.Parse(mac));
        nl.SetMaster(port, bridge);
        nl.SetLinkUp(nl.GetLink(name));
    }
}
