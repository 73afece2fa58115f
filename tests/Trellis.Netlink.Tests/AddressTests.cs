using System.Net.Sockets;
using Trellis.Addressing;
using Trellis.Testing;
using Xunit;

namespace Trellis.Netlink.Tests;

public sealed class AddressTests
{
    [Fact]
    public void IPv4_and_IPv6_addresses_are_added_listed_and_deleted()
    {
        using var ns = NetworkNamespace.Create("nl");
        using var nl = NetlinkHandle.OpenNamespace(ns.Path);
        nl.AddBridge("br0");
        var bridge = nl.GetLink("br0");
        var v4 = IpPrefix.Parse("10.244.1.1/24");
        var v6 = IpPrefix.Parse("fd00:10:244:1::1/80");

        nl.AddAddress(bridge, v4);
        nl.AddAddress(bridge, v6);

        var shown = ns.Exec("ip", "addr", "show", "dev", "br0");
        Assert.Contains("inet 10.244.1.1/24", shown);
        Assert.Contains("inet6 fd00:10:244:1::1/80", shown);
        Assert.Equal([new Address(bridge.Index, v4, 0)], nl.ListAddresses(bridge, AddressFamily.InterNetwork));
        Assert.Contains(new Address(bridge.Index, v6, 0), nl.ListAddresses(bridge, AddressFamily.InterNetworkV6));
        Assert.Contains(nl.ListAddresses(), a => a.Prefix == IpPrefix.Parse("127.0.0.1/8") && a.Scope == 254);
        Assert.DoesNotContain(nl.ListAddresses(bridge), a => a.LinkIndex != bridge.Index);

        nl.DeleteAddress(bridge, v4);
        nl.DeleteAddress(bridge, v6);

        shown = ns.Exec("ip", "addr", "show", "dev", "br0");
        Assert.DoesNotContain("10.244.1.1", shown);
        Assert.DoesNotContain("fd00:10:244:1::1", shown);
        Assert.Empty(nl.ListAddresses(bridge, AddressFamily.InterNetwork));
    }

    [Fact]
    public void Adding_twice_is_already_exists_and_deleting_a_missing_address_is_not_found()
    {
        using var ns = NetworkNamespace.Create("nl");
        using var nl = NetlinkHandle.OpenNamespace(ns.Path);
        nl.AddBridge("br0");
        var bridge = nl.GetLink("br0");
        nl.AddAddress(bridge, IpPrefix.Parse("10.0.0.1/24"));

        var duplicate = Assert.Throws<NetlinkException>(() => nl.AddAddress(bridge, IpPrefix.Parse("10.0.0.1/24")));
        Assert.True(duplicate.IsAlreadyExists);
        Assert.StartsWith("add address 10.0.0.1/24 dev br0: EEXIST", duplicate.Message);

        var missing = Assert.Throws<NetlinkException>(() => nl.DeleteAddress(bridge, IpPrefix.Parse("10.0.0.9/24")));
        Assert.True(missing.IsNotFound);
        Assert.StartsWith("delete address 10.0.0.9/24 dev br0: EADDRNOTAVAIL", missing.Message);
    }
}
