using System.Net;
using System.Net.NetworkInformation;
using Trellis.Addressing;
using Trellis.Testing;
using Xunit;

namespace Trellis.Netlink.Tests;

public sealed class LinkTests
{
    [Fact]
    public void Bridge_is_created_brought_up_resized_and_deleted()
    {
        using var ns = NetworkNamespace.Create("nl");
        using var nl = NetlinkHandle.OpenNamespace(ns.Path);

        nl.AddBridge("br-test", mtu: 1400);
        var bridge = nl.GetLink("br-test");
        Assert.Equal("bridge", bridge.Kind);
        Assert.Equal(1400, bridge.Mtu);
        Assert.False(bridge.IsUp);

        nl.SetLinkUp(bridge);
        nl.SetMtu(bridge, 1300);
        var shown = ns.Exec("ip", "-d", "link", "show", "br-test");
        Assert.Contains("mtu 1300", shown);
        Assert.Contains("bridge", shown);
        Assert.Matches("<[^>]*\\bUP\\b", shown);
        Assert.True(nl.GetLink("br-test").IsUp);
        Assert.Equal(bridge.Index, nl.FindLink(bridge.Index)?.Index);

        nl.SetLinkDown(bridge);
        Assert.False(nl.GetLink("br-test").IsUp);

        nl.DeleteLink(bridge);
        Assert.Null(nl.FindLink("br-test"));
        Assert.Null(nl.FindLink(bridge.Index));
        Assert.False(ns.Run("ip", "link", "show", "br-test").Succeeded);
    }

    [Fact]
    public void Adding_an_existing_bridge_is_already_exists_and_names_it()
    {
        using var ns = NetworkNamespace.Create("nl");
        using var nl = NetlinkHandle.OpenNamespace(ns.Path);
        nl.AddBridge("br-dup");

        var error = Assert.Throws<NetlinkException>(() => nl.AddBridge("br-dup"));
        Assert.True(error.IsAlreadyExists);
        Assert.Equal("EEXIST", error.ErrnoName);
        Assert.StartsWith("add bridge br-dup: EEXIST", error.Message);
    }

    [Fact]
    public void Listing_links_shows_loopback_and_created_links()
    {
        using var ns = NetworkNamespace.Create("nl");
        using var nl = NetlinkHandle.OpenNamespace(ns.Path);
        nl.AddBridge("br-list");

        var links = nl.ListLinks();
        var loopback = Assert.Single(links, l => l.Name == "lo");
        Assert.Equal("", loopback.Kind);
        Assert.True(loopback.IsUp);
        Assert.Equal("bridge", Assert.Single(links, l => l.Name == "br-list").Kind);
    }

    [Fact]
    public void Veth_peer_is_created_straight_inside_the_other_namespace()
    {
        using var host = NetworkNamespace.Create("nl-host");
        using var pod = NetworkNamespace.Create("nl-pod");
        using var nl = NetlinkHandle.OpenNamespace(host.Path);
        using var podRef = NetworkNamespaceRef.Open(pod.Path);

        nl.AddVethPair("veth-host", "eth0", podRef, mtu: 1450);

        var hostEnd = nl.GetLink("veth-host");
        Assert.Equal("veth", hostEnd.Kind);
        Assert.Equal(1450, hostEnd.Mtu);
        Assert.Null(nl.FindLink("eth0"));
        var podSide = pod.Exec("ip", "-d", "link", "show", "eth0");
        Assert.Contains("veth", podSide);
        Assert.Contains("mtu 1450", podSide);

        using var inPod = NetlinkHandle.OpenNamespace(pod.Path);
        Assert.Equal("veth", inPod.GetLink("eth0").Kind);
    }

    [Fact]
    public void Master_is_set_and_removed()
    {
        using var ns = NetworkNamespace.Create("nl");
        using var nl = NetlinkHandle.OpenNamespace(ns.Path);
        nl.AddBridge("br0");
        nl.AddVethPair("va", "vb");
        var bridge = nl.GetLink("br0");
        var port = nl.GetLink("va");

        nl.SetMaster(port, bridge);
        Assert.Equal(bridge.Index, nl.GetLink("va").MasterIndex);
        Assert.Contains("master br0", ns.Exec("ip", "link", "show", "va"));

        nl.RemoveMaster(port);
        Assert.Null(nl.GetLink("va").MasterIndex);
        Assert.DoesNotContain("master", ns.Exec("ip", "link", "show", "va"));
    }

    [Fact]
    public void A_kernel_refusal_names_the_links_by_name_not_by_index()
    {
        using var ns = NetworkNamespace.Create("nl");
        using var nl = NetlinkHandle.OpenNamespace(ns.Path);
        nl.AddBridge("br-gone");
        nl.AddVethPair("va", "vb");
        var gone = nl.GetLink("br-gone");
        var port = nl.GetLink("va");
        nl.DeleteLink(gone);

        var noMaster = Assert.Throws<NetlinkException>(() => nl.SetMaster(port, gone));
        var noLink = Assert.Throws<NetlinkException>(() => nl.SetLinkUp(gone));
        var noAddress = Assert.Throws<NetlinkException>(() => nl.AddAddress(gone, IpPrefix.Parse("10.0.0.1/24")));
        var noRoute = Assert.Throws<NetlinkException>(() =>
            nl.AddRoute(new Route { Destination = Cidr.Parse("10.9.0.0/16"), Gateway = IPAddress.Parse("10.0.0.1") }, port));

        // The kernel answers EINVAL for a master index it does not know, ENODEV for a link it does not know.
        Assert.StartsWith("set link va master br-gone: EINVAL", noMaster.Message);
        Assert.StartsWith("set link br-gone up: ENODEV", noLink.Message);
        Assert.StartsWith("add address 10.0.0.1/24 dev br-gone: ENODEV", noAddress.Message);
        Assert.StartsWith("add route 10.9.0.0/16 via 10.0.0.1 dev va: ", noRoute.Message);
        Assert.Null(nl.GetLink("va").MasterIndex);
    }

    [Fact]
    public void Link_moves_to_another_namespace()
    {
        using var first = NetworkNamespace.Create("nl-a");
        using var second = NetworkNamespace.Create("nl-b");
        using var nl = NetlinkHandle.OpenNamespace(first.Path);
        using var target = NetworkNamespaceRef.Open(second.Path);
        nl.AddVethPair("mv0", "mv1");

        nl.MoveToNamespace(nl.GetLink("mv1"), target);

        Assert.Null(nl.FindLink("mv1"));
        Assert.Contains("mv1", second.Exec("ip", "link", "show", "mv1"));
    }

    [Fact]
    public void Hardware_address_is_set()
    {
        using var ns = NetworkNamespace.Create("nl");
        using var nl = NetlinkHandle.OpenNamespace(ns.Path);
        nl.AddBridge("br-mac");
        var mac = PhysicalAddress.Parse("02-42-AC-11-00-07");

        nl.SetHardwareAddress(nl.GetLink("br-mac"), mac);

        Assert.Equal(mac, nl.GetLink("br-mac").HardwareAddress);
        Assert.Contains("link/ether 02:42:ac:11:00:07", ns.Exec("ip", "link", "show", "br-mac"));
    }

    [Fact]
    public void Vxlan_is_created_with_vni_port_local_and_learning_off()
    {
        using var ns = NetworkNamespace.Create("nl");
        using var nl = NetlinkHandle.OpenNamespace(ns.Path);
        nl.AddBridge("underlay");
        int underlay = nl.GetLink("underlay").Index;
        var mac = PhysicalAddress.Parse("02-00-00-00-00-2A");

        nl.AddVxlan(new VxlanLinkSpec("vx42", 42, 4789, IPAddress.Parse("192.168.1.11"), underlay, Learning: false, Mtu: 1450, HardwareAddress: mac));

        var link = nl.GetLink("vx42");
        Assert.Equal("vxlan", link.Kind);
        Assert.Equal(new VxlanInfo(42, 4789, IPAddress.Parse("192.168.1.11"), underlay, false), link.Vxlan);
        Assert.Equal(1450, link.Mtu);
        Assert.Equal(mac, link.HardwareAddress);
        var shown = ns.Exec("ip", "-d", "link", "show", "vx42");
        Assert.Contains("vxlan id 42", shown);
        Assert.Contains("local 192.168.1.11", shown);
        Assert.Contains("dev underlay", shown);
        Assert.Contains("dstport 4789", shown);
        Assert.Contains("nolearning", shown);
    }

    [Fact]
    public void Vxlan_with_learning_and_ipv6_local_round_trips()
    {
        using var ns = NetworkNamespace.Create("nl");
        using var nl = NetlinkHandle.OpenNamespace(ns.Path);

        nl.AddVxlan(new VxlanLinkSpec("vx6", 7, 8472, IPAddress.Parse("fd00::11"), null, Learning: true));

        Assert.Equal(new VxlanInfo(7, 8472, IPAddress.Parse("fd00::11"), null, true), nl.GetLink("vx6").Vxlan);
        var shown = ns.Exec("ip", "-d", "link", "show", "vx6");
        Assert.Contains("local fd00::11", shown);
        Assert.DoesNotContain("nolearning", shown);
    }

    [Fact]
    public void Getting_a_missing_link_is_not_found_and_names_it()
    {
        using var ns = NetworkNamespace.Create("nl");
        using var nl = NetlinkHandle.OpenNamespace(ns.Path);

        var error = Assert.Throws<NetlinkException>(() => nl.GetLink("nosuch0"));
        Assert.True(error.IsNotFound);
        Assert.Equal(Trellis.Linux.Errno.ENODEV, error.Errno);
        Assert.Equal("get link nosuch0", error.Operation);
        Assert.StartsWith("get link nosuch0: ENODEV", error.Message);
        Assert.Null(nl.FindLink("nosuch0"));
        nl.AddBridge("gone0");
        var gone = nl.GetLink("gone0");
        nl.DeleteLink(gone);
        var deletedTwice = Assert.Throws<NetlinkException>(() => nl.DeleteLink(gone));
        Assert.True(deletedTwice.IsNotFound);
        Assert.StartsWith("delete link gone0: ENODEV", deletedTwice.Message);
    }

    [Fact]
    public void Bad_names_and_mtus_are_refused_before_reaching_the_kernel()
    {
        using var ns = NetworkNamespace.Create("nl");
        using var nl = NetlinkHandle.OpenNamespace(ns.Path);
        long before = nl.RequestsSent;

        var longName = Assert.Throws<NetlinkException>(() => nl.AddBridge("a-name-far-too-long"));
        Assert.Contains("add bridge a-name-far-too-long", longName.Message);
        var slash = Assert.Throws<NetlinkException>(() => nl.AddVethPair("ok", "bad/name"));
        Assert.Contains("bad/name", slash.Message);
        var mtu = Assert.Throws<NetlinkException>(() => nl.AddBridge("br1", mtu: 10));
        Assert.Contains("MTU 10", mtu.Message);

        Assert.Equal(before, nl.RequestsSent);
        Assert.DoesNotContain(nl.ListLinks(), l => l.Name is "br1" or "ok");
    }

    [Fact]
    public void Handle_on_the_current_namespace_sees_the_same_links_as_one_opened_by_path()
    {
        using var ns = NetworkNamespace.Create("nl");
        using var byPath = NetlinkHandle.OpenNamespace(ns.Path);
        byPath.AddBridge("br-same");

        int index = NetworkNamespaceRunner.Run(ns.Path, () =>
        {
            using var current = NetlinkHandle.Open();
            return current.GetLink("br-same").Index;
        });

        Assert.Equal(byPath.GetLink("br-same").Index, index);
    }
}
