using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Trellis.Addressing;
using Trellis.Testing;
using Xunit;

namespace Trellis.Netlink.Tests;

public sealed class RouteTests
{
    private const byte TrellisProtocol = 150;

    /// <summary>A namespace with a bridge up at 192.168.1.11/24 (and fd00:1::11/64) to route through.</summary>
    private static (NetworkNamespace Ns, NetlinkHandle Nl, int Link) World()
    {
        var ns = NetworkNamespace.Create("nl-route");
        var nl = NetlinkHandle.OpenNamespace(ns.Path);
        nl.AddBridge("uplink");
        var uplink = nl.GetLink("uplink");
        nl.AddAddress(uplink, IpPrefix.Parse("192.168.1.11/24"));
        nl.SetLinkUp(uplink);
        return (ns, nl, uplink.Index);
    }

    private static Route Via(string destination, string gateway, int link) => new()
    {
        Destination = Cidr.Parse(destination),
        Gateway = IPAddress.Parse(gateway),
        OutputLinkIndex = link,
        Protocol = TrellisProtocol,
    };

    [Fact]
    public void Route_via_a_gateway_is_added_listed_replaced_and_deleted()
    {
        var (ns, nl, link) = World();
        using var _ = ns;
        using var __ = nl;
        var route = Via("10.244.2.0/24", "192.168.1.12", link) with { Priority = 100 };

        nl.AddRoute(route);

        Assert.Matches(@"10\.244\.2\.0/24 via 192\.168\.1\.12 dev uplink proto 150 metric 100", ns.Exec("ip", "route", "show", "table", "all"));
        Assert.Contains(route, nl.ListRoutes(AddressFamily.InterNetwork));

        var moved = route with { Gateway = IPAddress.Parse("192.168.1.13") };
        nl.ReplaceRoute(moved);
        var listed = nl.ListRoutes(AddressFamily.InterNetwork).Where(r => r.Destination == route.Destination).ToList();
        Assert.Equal([moved], listed);
        Assert.Contains("10.244.2.0/24 via 192.168.1.13", ns.Exec("ip", "route", "show"));

        nl.DeleteRoute(moved);
        Assert.DoesNotContain("10.244.2.0", ns.Exec("ip", "route", "show", "table", "all"));
        Assert.DoesNotContain(nl.ListRoutes(AddressFamily.InterNetwork), r => r.Destination == route.Destination);
    }

    [Fact]
    public void Adding_an_existing_route_is_already_exists_but_replacing_is_not()
    {
        var (ns, nl, link) = World();
        using var _ = ns;
        using var __ = nl;
        var route = Via("10.244.3.0/24", "192.168.1.13", link);
        nl.AddRoute(route);

        var error = Assert.Throws<NetlinkException>(() => nl.AddRoute(route));
        Assert.True(error.IsAlreadyExists);
        Assert.StartsWith($"add route 10.244.3.0/24 via 192.168.1.13 dev {link}: EEXIST", error.Message);
        nl.ReplaceRoute(route);
        Assert.Single(nl.ListRoutes(AddressFamily.InterNetwork), r => r.Destination == route.Destination);
    }

    [Fact]
    public void Onlink_scope_link_table_100_and_mtu_round_trip()
    {
        var (ns, nl, link) = World();
        using var _ = ns;
        using var __ = nl;
        var onlink = Via("10.244.4.0/24", "172.16.0.1", link) with { OnLink = true, Table = 100 };
        var scoped = new Route
        {
            Destination = Cidr.Parse("10.244.5.0/24"),
            OutputLinkIndex = link,
            Scope = RouteScope.Link,
            Table = 100,
            Protocol = TrellisProtocol,
            PreferredSource = IPAddress.Parse("192.168.1.11"),
            Mtu = 1400,
        };
        var bigTable = Via("10.244.6.0/24", "192.168.1.14", link) with { Table = 1000 };

        nl.AddRoute(onlink);
        nl.AddRoute(scoped);
        nl.AddRoute(bigTable);

        var all = ns.Exec("ip", "route", "show", "table", "all");
        Assert.Matches(@"10\.244\.4\.0/24 via 172\.16\.0\.1 dev uplink table 100 proto 150 onlink", all);
        Assert.Matches(@"10\.244\.5\.0/24 dev uplink table 100 proto 150 scope link src 192\.168\.1\.11 mtu 1400", all);
        Assert.Matches(@"10\.244\.6\.0/24 via 192\.168\.1\.14 dev uplink table 1000 proto 150", all);
        var table100 = nl.ListRoutes(AddressFamily.InterNetwork, 100);
        Assert.Contains(onlink, table100);
        Assert.Contains(scoped, table100);
        Assert.All(table100, r => Assert.Equal(100, r.Table));
        Assert.Equal([bigTable], nl.ListRoutes(AddressFamily.InterNetwork, 1000));
        Assert.DoesNotContain(nl.ListRoutes(AddressFamily.InterNetwork), r => r.Table != RouteTables.Main);
        var everything = nl.ListRoutes(AddressFamily.InterNetwork, table: null);
        Assert.Contains(bigTable, everything);
        Assert.Contains(everything, r => r.Table == RouteTables.Local && r.Type == RouteType.Local);

        nl.DeleteRoute(onlink);
        nl.DeleteRoute(scoped);
        nl.DeleteRoute(bigTable);
        Assert.DoesNotContain("10.244.", ns.Exec("ip", "route", "show", "table", "all"));
    }

    [Fact]
    public void Kernel_routes_are_decoded_with_their_protocol_scope_and_source()
    {
        var (ns, nl, link) = World();
        using var _ = ns;
        using var __ = nl;

        var connected = Assert.Single(nl.ListRoutes(AddressFamily.InterNetwork), r => r.Destination == Cidr.Parse("192.168.1.0/24"));

        Assert.Equal(new Route
        {
            Destination = Cidr.Parse("192.168.1.0/24"),
            OutputLinkIndex = link,
            Scope = RouteScope.Link,
            Protocol = RouteProtocols.Kernel,
            PreferredSource = IPAddress.Parse("192.168.1.11"),
        }, connected);
    }

    [Fact]
    public void Default_and_blackhole_and_ipv6_routes_round_trip()
    {
        var (ns, nl, link) = World();
        using var _ = ns;
        using var __ = nl;
        nl.AddAddress(nl.GetLink("uplink"), IpPrefix.Parse("fd00:1::11/64"));
        var defaultRoute = Via("0.0.0.0/0", "192.168.1.1", link);
        var blackhole = new Route { Destination = Cidr.Parse("10.99.0.0/16"), Type = RouteType.Blackhole, Protocol = TrellisProtocol };
        var v6 = new Route
        {
            Destination = Cidr.Parse("fd00:10:244:2::/80"),
            Gateway = IPAddress.Parse("fd00:1::12"),
            OutputLinkIndex = link,
            Protocol = TrellisProtocol,
            Priority = 1024,
            OnLink = true,
        };

        nl.AddRoute(defaultRoute);
        nl.AddRoute(blackhole);
        nl.AddRoute(v6);

        Assert.Contains("default via 192.168.1.1 dev uplink proto 150", ns.Exec("ip", "route", "show"));
        Assert.Contains("blackhole 10.99.0.0/16 proto 150", ns.Exec("ip", "route", "show"));
        Assert.Contains("fd00:10:244:2::/80 via fd00:1::12 dev uplink proto 150 metric 1024 onlink", ns.Exec("ip", "-6", "route", "show"));
        var v4 = nl.ListRoutes(AddressFamily.InterNetwork);
        Assert.Contains(defaultRoute, v4);
        Assert.Contains(blackhole, v4);
        Assert.Contains(v6, nl.ListRoutes(AddressFamily.InterNetworkV6));
    }

    [Fact]
    public void Route_via_an_unreachable_gateway_fails_with_the_operation_the_route_and_the_errno()
    {
        var (ns, nl, link) = World();
        using var _ = ns;
        using var __ = nl;
        var route = new Route { Destination = Cidr.Parse("10.244.2.0/24"), Gateway = IPAddress.Parse("172.31.0.1"), Protocol = TrellisProtocol };

        var error = Assert.Throws<NetlinkException>(() => nl.AddRoute(route));

        Assert.Equal(Trellis.Linux.Errno.ENETUNREACH, error.Errno);
        Assert.Equal("add route 10.244.2.0/24 via 172.31.0.1", error.Operation);
        Assert.StartsWith("add route 10.244.2.0/24 via 172.31.0.1: ENETUNREACH", error.Message);
        Assert.DoesNotContain("10.244.2.0", ns.Exec("ip", "route", "show", "table", "all"));
    }

    [Fact]
    public void Delete_matches_a_route_whatever_scope_the_kernel_gave_it()
    {
        var (ns, nl, link) = World();
        using var _ = ns;
        using var __ = nl;
        ns.Exec("ip", "route", "add", "10.244.7.0/24", "dev", "uplink", "proto", "150");
        var rebuilt = new Route { Destination = Cidr.Parse("10.244.7.0/24"), OutputLinkIndex = link, Protocol = TrellisProtocol };
        Assert.Equal(RouteScope.Link, nl.ListRoutes(AddressFamily.InterNetwork).Single(r => r.Destination == rebuilt.Destination).Scope);

        nl.DeleteRoute(rebuilt);

        Assert.DoesNotContain("10.244.7.0", ns.Exec("ip", "route", "show"));
    }

    [Fact]
    public void Delete_leaves_a_route_of_another_protocol_alone()
    {
        var (ns, nl, link) = World();
        using var _ = ns;
        using var __ = nl;
        ns.Exec("ip", "route", "add", "10.244.8.0/24", "via", "192.168.1.12", "proto", "static");

        var error = Assert.Throws<NetlinkException>(() => nl.DeleteRoute(Via("10.244.8.0/24", "192.168.1.12", link)));

        Assert.True(error.IsNotFound);
        Assert.Contains("10.244.8.0/24 via 192.168.1.12 dev uplink proto static", ns.Exec("ip", "route", "show"));
    }

    [Fact]
    public void Deleting_a_missing_route_is_not_found()
    {
        var (ns, nl, link) = World();
        using var _ = ns;
        using var __ = nl;

        var error = Assert.Throws<NetlinkException>(() => nl.DeleteRoute(Via("10.244.9.0/24", "192.168.1.19", link)));

        Assert.True(error.IsNotFound);
        Assert.Contains("delete route 10.244.9.0/24 via 192.168.1.19", error.Message);
    }

    [Fact]
    public void A_route_mixing_families_is_refused_before_reaching_the_kernel()
    {
        var (ns, nl, link) = World();
        using var _ = ns;
        using var __ = nl;
        long before = nl.RequestsSent;

        var error = Assert.Throws<NetlinkException>(() => nl.AddRoute(Via("10.244.2.0/24", "fd00::1", link)));

        Assert.Contains("add route 10.244.2.0/24 via fd00::1", error.Message);
        Assert.Contains("not the destination's family", error.Message);
        Assert.Equal(before, nl.RequestsSent);
    }

    [Fact]
    public void ApplyRoutes_applies_a_thousand_changes_and_reports_each_failure_in_place()
    {
        var (ns, nl, link) = World();
        using var _ = ns;
        using var __ = nl;
        var routes = Enumerable.Range(0, 1000)
            .Select(i => Via($"10.{100 + i / 256}.{i % 256}.0/24", "192.168.1.12", link))
            .ToList();
        var changes = routes.Select(r => new RouteChange(RouteOperation.Add, r)).ToList();
        changes[10] = new RouteChange(RouteOperation.Add, routes[10] with { Gateway = IPAddress.Parse("172.31.0.1") });
        changes[500] = new RouteChange(RouteOperation.Delete, Via("10.250.0.0/24", "192.168.1.12", link));
        changes[999] = new RouteChange(RouteOperation.Add, routes[0]);
        changes[700] = new RouteChange(RouteOperation.Add, routes[700] with { Gateway = IPAddress.Parse("fd00::1") });
        long before = nl.RequestsSent;

        var outcomes = nl.ApplyRoutes(changes);

        Assert.Equal(1000, outcomes.Count);
        Assert.Equal([10, 500, 700, 999], outcomes.Select((o, i) => (o, i)).Where(p => p.o is not null).Select(p => p.i));
        Assert.Equal(Trellis.Linux.Errno.ENETUNREACH, outcomes[10]!.Errno);
        Assert.Contains("add route 10.100.10.0/24 via 172.31.0.1", outcomes[10]!.Message);
        Assert.True(outcomes[500]!.IsNotFound);
        Assert.Contains("delete route 10.250.0.0/24", outcomes[500]!.Message);
        Assert.Contains("not the destination's family", outcomes[700]!.Message);
        Assert.True(outcomes[999]!.IsAlreadyExists);
        Assert.Equal(999, nl.RequestsSent - before);

        var installed = nl.ListRoutes(AddressFamily.InterNetwork).Where(r => r.Protocol == TrellisProtocol).ToList();
        Assert.Equal(996, installed.Count);
        var witness = ns.Exec("ip", "route", "show", "proto", "150");
        Assert.Equal(996, witness.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        var removal = installed.Select(r => new RouteChange(RouteOperation.Delete, r)).ToList();
        Assert.All(nl.ApplyRoutes(removal), Assert.Null);
        Assert.Empty(ns.Exec("ip", "route", "show", "proto", "150").Trim());
    }
}
