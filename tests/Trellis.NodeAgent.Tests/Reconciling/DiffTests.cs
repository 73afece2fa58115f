using System.Net;
using Trellis.Addressing;
using Trellis.Crds;
using Trellis.NodeAgent.Planning;
using Trellis.NodeAgent.Reconciling;
using static Trellis.NodeAgent.Tests.Planning.SubnetBuilder;

namespace Trellis.NodeAgent.Tests.Reconciling;

public sealed class DiffTests
{
    private const int Underlay = 2, Vxlan = 7, Bridge = 5;

    private static KernelRoute Ours(string destination, string gateway, int link = Underlay, bool onlink = false) =>
        new(Cidr.Parse(destination), IPAddress.Parse(gateway), link, onlink, TrellisProtocol.Number);

    private static KernelRoute Foreign(string destination, string? gateway, int link, byte protocol) =>
        new(Cidr.Parse(destination), gateway is null ? null : IPAddress.Parse(gateway), link, false, protocol);

    private static IReadOnlyList<KernelRoute> Desired(string mode)
    {
        var plan = Plan("node1", Classic(mode));
        return RouteResolution.Resolve(plan.Routes, Underlay, plan.Vxlan is null ? null : Vxlan);
    }

    [Theory]
    [InlineData(RoutingModes.Direct)]
    [InlineData(RoutingModes.Vxlan)]
    public void From_nothing_every_route_is_added(string mode)
    {
        var diff = RouteDiff.Compute(Desired(mode), [Foreign("192.168.1.0/24", null, Underlay, 2)]);
        Assert.Equal(2, diff.Replace.Count);
        Assert.Empty(diff.Delete);
        Assert.Empty(diff.Conflicts);
        Assert.All(diff.Replace, r => Assert.Equal(TrellisProtocol.Number, r.Protocol));
        Assert.Equal(mode == RoutingModes.Vxlan, diff.Replace[0].OnLink);
    }

    [Theory]
    [InlineData(RoutingModes.Direct)]
    [InlineData(RoutingModes.Vxlan)]
    public void A_restart_over_a_programmed_kernel_changes_nothing(string mode)
    {
        var desired = Desired(mode);
        var kernel = desired.Concat([Foreign("192.168.1.0/24", null, Underlay, 2), Foreign("10.244.1.0/24", null, Bridge, 2)]).Reverse().ToList();

        Assert.True(RouteDiff.Compute(desired, kernel).IsEmpty);
    }

    [Fact]
    public void A_moved_peer_is_replaced_in_place_not_removed_and_added()
    {
        var diff = RouteDiff.Compute(Desired(RoutingModes.Direct),
            [Ours("10.244.2.0/24", "192.168.1.12"), Ours("10.244.3.0/24", "192.168.1.99")]);

        Assert.Equal([Ours("10.244.3.0/24", "192.168.1.13")], diff.Replace);
        Assert.Empty(diff.Delete);
    }

    [Fact]
    public void A_switch_from_direct_to_vxlan_replaces_each_route()
    {
        var diff = RouteDiff.Compute(Desired(RoutingModes.Vxlan),
            [Ours("10.244.2.0/24", "192.168.1.12"), Ours("10.244.3.0/24", "192.168.1.13")]);

        Assert.Equal([Ours("10.244.2.0/24", "10.244.2.0", Vxlan, true), Ours("10.244.3.0/24", "10.244.3.0", Vxlan, true)], diff.Replace);
        Assert.Empty(diff.Delete);
    }

    [Fact]
    public void Stale_trellis_routes_are_deleted_and_other_protocols_left_alone()
    {
        var handMade = Foreign("10.99.0.0/24", "192.168.1.50", Underlay, (byte)4);
        var bootRoute = Foreign("10.98.0.0/24", "192.168.1.51", Underlay, 3);
        var diff = RouteDiff.Compute(Desired(RoutingModes.Direct),
            [Ours("10.244.2.0/24", "192.168.1.12"), Ours("10.244.3.0/24", "192.168.1.13"), Ours("10.244.4.0/24", "192.168.1.14"), handMade, bootRoute]);

        Assert.Empty(diff.Replace);
        Assert.Equal([Ours("10.244.4.0/24", "192.168.1.14")], diff.Delete);
    }

    [Fact]
    public void A_foreign_route_in_the_way_is_reported_not_replaced()
    {
        var diff = RouteDiff.Compute(Desired(RoutingModes.Direct),
            [Foreign("10.244.2.0/24", "192.168.1.77", Underlay, (byte)4), Ours("10.244.3.0/24", "192.168.1.13")]);

        Assert.Empty(diff.Replace);
        Assert.Empty(diff.Delete);
        var conflict = Assert.Single(diff.Conflicts);
        Assert.Contains("10.244.2.0/24", conflict);
    }

    [Fact]
    public void Bridge_addresses_converge_and_link_local_ones_are_kept()
    {
        var linkLocal = IpPrefix.Parse("fe80::1/64");
        var diff = AddressDiff.Compute([IpPrefix.Parse("10.244.1.1/24")], [IpPrefix.Parse("10.244.7.1/24"), linkLocal]);
        Assert.Equal([IpPrefix.Parse("10.244.1.1/24")], diff.Add);
        Assert.Equal([IpPrefix.Parse("10.244.7.1/24")], diff.Delete);

        Assert.True(AddressDiff.Compute([IpPrefix.Parse("10.244.1.1/24")], [linkLocal, IpPrefix.Parse("10.244.1.1/24")]).IsEmpty);
    }

    [Fact]
    public void Fdb_adds_missing_peers_and_removes_departed_or_moved_ones()
    {
        var plan = Plan("node1", Classic(RoutingModes.Vxlan));
        var mac2 = MacAddress.ForVtep(IPAddress.Parse("192.168.1.12"));
        var gone = MacAddress.ForVtep(IPAddress.Parse("192.168.1.44"));
        var diff = FdbDiff.Compute(plan.Fdb,
            [new KernelFdb(mac2, IPAddress.Parse("192.168.1.12")), new KernelFdb(gone, IPAddress.Parse("192.168.1.44")),
             new KernelFdb(mac2, IPAddress.Parse("192.168.1.99")),
             // Another owner's entries (flooding to an extra VTEP, a hand-made MAC): not Trellis's, never removed.
             new KernelFdb(MacAddress.Parse("00:00:00:00:00:00"), IPAddress.Parse("192.168.1.50")),
             new KernelFdb(MacAddress.Parse("02:42:ac:11:00:02"), IPAddress.Parse("192.168.1.51"))]);

        Assert.Equal([new KernelFdb(MacAddress.ForVtep(IPAddress.Parse("192.168.1.13")), IPAddress.Parse("192.168.1.13"))], diff.Add);
        Assert.Equal([new KernelFdb(gone, IPAddress.Parse("192.168.1.44")), new KernelFdb(mac2, IPAddress.Parse("192.168.1.99"))], diff.Delete);

        var programmed = plan.Fdb.Select(f => new KernelFdb(f.Mac, f.Destination)).ToList();
        Assert.True(FdbDiff.Compute(plan.Fdb, programmed).IsEmpty);
    }

    [Fact]
    public void Neighbours_are_made_permanent_and_only_trellis_entries_are_removed()
    {
        var plan = Plan("node1", Classic(RoutingModes.Vxlan));
        var mac2 = MacAddress.ForVtep(IPAddress.Parse("192.168.1.12"));
        var diff = NeighborDiff.Compute(plan.Neighbors,
        [
            new KernelNeighbor(IPAddress.Parse("10.244.2.0"), mac2, true, TrellisProtocol.Number),
            new KernelNeighbor(IPAddress.Parse("10.244.3.0"), null, false, 0),
            new KernelNeighbor(IPAddress.Parse("10.244.9.0"), mac2, true, TrellisProtocol.Number),
            new KernelNeighbor(IPAddress.Parse("10.244.8.0"), null, false, 0),
            new KernelNeighbor(IPAddress.Parse("10.244.7.0"), MacAddress.Parse("02:42:ac:11:00:02"), true, 0),
        ]);

        Assert.Equal([plan.Neighbors[1]], diff.Replace);
        Assert.Equal([IPAddress.Parse("10.244.9.0")], diff.Delete);
        Assert.Empty(diff.Conflicts);

        var programmed = plan.Neighbors.Select(n => new KernelNeighbor(n.Address, n.Mac, true, TrellisProtocol.Number)).ToList();
        Assert.True(NeighborDiff.Compute(plan.Neighbors, programmed).IsEmpty);
    }

    [Fact]
    public void A_permanent_neighbour_of_another_owner_in_the_way_is_reported_not_replaced()
    {
        var plan = Plan("node1", Classic(RoutingModes.Vxlan));
        var diff = NeighborDiff.Compute(plan.Neighbors,
        [
            new KernelNeighbor(IPAddress.Parse("10.244.2.0"), MacAddress.Parse("02:42:ac:11:00:02"), true, 0),
            new KernelNeighbor(IPAddress.Parse("10.244.3.0"), plan.Neighbors[1].Mac, true, TrellisProtocol.Number),
        ]);

        Assert.Empty(diff.Replace);
        Assert.Empty(diff.Delete);
        Assert.Contains("10.244.2.0", Assert.Single(diff.Conflicts));
    }

    [Fact]
    public void Only_derived_vtep_addresses_mark_trellis_fdb_entries()
    {
        Assert.True(MacAddress.ForVtep(IPAddress.Parse("192.168.1.12")).IsVtep);
        Assert.True(MacAddress.ForVtep(IPAddress.Parse("fd00::12")).IsVtep);
        Assert.False(MacAddress.Parse("00:00:00:00:00:00").IsVtep);
        Assert.False(MacAddress.Parse("0e:75:c0:a8:01:0c").IsVtep);
        Assert.False(MacAddress.Parse("02:74:c0:a8:01:0c").IsVtep);
    }

    [Fact]
    public void Resolving_a_vxlan_route_without_the_device_is_an_error_that_names_the_route()
    {
        var plan = Plan("node1", Classic(RoutingModes.Vxlan));
        var error = Assert.Throws<InvalidOperationException>(() => RouteResolution.Resolve(plan.Routes, Underlay, null));
        Assert.Contains("10.244.2.0/24", error.Message);
    }
}
