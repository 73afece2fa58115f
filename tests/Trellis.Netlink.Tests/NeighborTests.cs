using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Trellis.Testing;
using Xunit;

namespace Trellis.Netlink.Tests;

public sealed class NeighborTests
{
    private static readonly PhysicalAddress PeerMac = PhysicalAddress.Parse("02-00-C0-A8-01-0C");
    private static readonly PhysicalAddress OtherMac = PhysicalAddress.Parse("02-00-C0-A8-01-0D");

    private static (NetworkNamespace Ns, NetlinkHandle Nl, Link Vxlan) World()
    {
        var ns = NetworkNamespace.Create("nl-neigh");
        var nl = NetlinkHandle.OpenNamespace(ns.Path);
        nl.AddVxlan(new VxlanLinkSpec("vx1", 1, 4789, IPAddress.Parse("192.168.1.11"), null));
        var vxlan = nl.GetLink("vx1");
        nl.SetLinkUp(vxlan);
        return (ns, nl, vxlan);
    }

    [Fact]
    public void Permanent_neighbours_are_replaced_listed_and_deleted_for_both_families()
    {
        var (ns, nl, vxlan) = World();
        using var _ = ns;
        using var __ = nl;
        var v4 = new Neighbor(vxlan.Index, IPAddress.Parse("10.244.2.0"), PeerMac, Protocol: 150);
        var v6 = new Neighbor(vxlan.Index, IPAddress.Parse("fd00:10:244:2::"), PeerMac);

        nl.ReplaceNeighbor(v4);
        nl.ReplaceNeighbor(v6);

        Assert.Contains("10.244.2.0 lladdr 02:00:c0:a8:01:0c PERMANENT proto 150", ns.Exec("ip", "neigh", "show", "dev", "vx1"));
        Assert.Contains("fd00:10:244:2:: lladdr 02:00:c0:a8:01:0c PERMANENT", ns.Exec("ip", "-6", "neigh", "show", "dev", "vx1"));
        Assert.Equal([v4], nl.ListNeighbors(AddressFamily.InterNetwork, vxlan));
        Assert.Contains(v6, nl.ListNeighbors(AddressFamily.InterNetworkV6, vxlan));

        var moved = v4 with { HardwareAddress = OtherMac };
        nl.ReplaceNeighbor(moved);
        Assert.Equal([moved], nl.ListNeighbors(AddressFamily.InterNetwork, vxlan));

        nl.DeleteNeighbor(moved);
        nl.DeleteNeighbor(v6);
        Assert.Empty(nl.ListNeighbors(AddressFamily.InterNetwork, vxlan));
        Assert.DoesNotContain("PERMANENT", ns.Exec("ip", "-6", "neigh", "show", "dev", "vx1"));
        var missing = Assert.Throws<NetlinkException>(() => nl.DeleteNeighbor(moved));
        Assert.True(missing.IsNotFound);
        Assert.StartsWith($"delete neighbor 10.244.2.0 lladdr 02:00:c0:a8:01:0d dev {vxlan.Index}: ENOENT", missing.Message);
    }

    [Fact]
    public void Vxlan_fdb_entries_are_appended_replaced_listed_and_deleted()
    {
        var (ns, nl, vxlan) = World();
        using var _ = ns;
        using var __ = nl;
        var zero = PhysicalAddress.Parse("00-00-00-00-00-00");
        var floodTo12 = new FdbEntry(vxlan.Index, zero, IPAddress.Parse("192.168.1.12"));
        var floodTo13 = new FdbEntry(vxlan.Index, zero, IPAddress.Parse("192.168.1.13"));
        // Port and VNI differ from the device's own: the kernel reports them only then.
        var peer = new FdbEntry(vxlan.Index, PeerMac, IPAddress.Parse("192.168.1.12"), Vni: 2, Port: 8472);

        nl.AppendFdb(floodTo12);
        nl.AppendFdb(floodTo13);
        nl.ReplaceFdb(peer);

        var witness = ns.Exec("bridge", "fdb", "show", "dev", "vx1");
        Assert.Contains("00:00:00:00:00:00 dst 192.168.1.12 self permanent", witness);
        Assert.Contains("00:00:00:00:00:00 dst 192.168.1.13 self permanent", witness);
        Assert.Contains("02:00:c0:a8:01:0c dst 192.168.1.12 port 8472 vni 2 self permanent", witness);
        var listed = nl.ListFdb(vxlan);
        Assert.Contains(floodTo12, listed);
        Assert.Contains(floodTo13, listed);
        Assert.Contains(peer, listed);

        var moved = peer with { Destination = IPAddress.Parse("192.168.1.14") };
        nl.ReplaceFdb(moved);
        Assert.Equal([moved], nl.ListFdb(vxlan).Where(e => e.HardwareAddress.Equals(PeerMac)));

        nl.DeleteFdb(moved);
        nl.DeleteFdb(floodTo12);
        witness = ns.Exec("bridge", "fdb", "show", "dev", "vx1");
        Assert.DoesNotContain("02:00:c0:a8:01:0c", witness);
        Assert.DoesNotContain("192.168.1.12", witness);
        Assert.Contains("dst 192.168.1.13", witness);
        Assert.Equal([floodTo13], nl.ListFdb(vxlan));
    }

    [Fact]
    public void Fdb_changes_with_bad_input_are_refused_and_name_the_entry()
    {
        var (ns, nl, vxlan) = World();
        using var _ = ns;
        using var __ = nl;

        var error = Assert.Throws<NetlinkException>(() => nl.AppendFdb(new FdbEntry(vxlan.Index, PeerMac, IPAddress.Parse("192.168.1.12"), Port: 70000)));

        Assert.Contains("append fdb 02:00:c0:a8:01:0c dst 192.168.1.12", error.Message);
        Assert.Contains("port 70000", error.Message);
        Assert.DoesNotContain(nl.ListFdb(vxlan), e => e.HardwareAddress.Equals(PeerMac));
    }
}
