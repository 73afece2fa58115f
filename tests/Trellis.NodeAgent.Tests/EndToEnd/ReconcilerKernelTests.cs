using Trellis.Ipam;
using Microsoft.Extensions.Logging.Abstractions;
using Trellis.Crds;
using Trellis.Netlink;
using Trellis.NodeAgent.Cni;
using Trellis.NodeAgent.Kernel;
using Trellis.NodeAgent.Planning;
using Trellis.NodeAgent.Reconciling;
using Trellis.Testing;
using static Trellis.NodeAgent.Tests.Planning.SubnetBuilder;

namespace Trellis.NodeAgent.Tests.EndToEnd;

/// <summary>
/// The reconciler against a real kernel, without the API server: one node namespace whose
/// underlay is a veth holding 192.168.1.11/24 and fd00::11/64, driven in-process.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class ReconcilerKernelTests : IDisposable
{
    private readonly TestTopology _topology = new();
    private readonly NetworkNamespace _node;
    private readonly string _directory = Directory.CreateTempSubdirectory("trellis-agent-kernel").FullName;

    public ReconcilerKernelTests()
    {
        _node = _topology.Namespace("node1");
        _node.Exec("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth0-peer");
        _node.Exec("ip", "addr", "add", "192.168.1.11/24", "dev", "eth0");
        _node.Exec("ip", "addr", "add", "fd00::11/64", "dev", "eth0", "nodad");
        _node.Exec("ip", "link", "set", "eth0-peer", "up");
        _node.Exec("ip", "link", "set", "eth0", "up");
        File.WriteAllText(Path.Combine(_directory, "plugin"), "plugin");
    }

    public void Dispose()
    {
        _topology.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>Runs passes inside the node namespace (netlink socket and sysctls follow the calling thread).</summary>
    private T InNode<T>(Func<NodeReconciler, NetlinkHandle, T> passes) => NetworkNamespaceRunner.Run(_node.Path, () =>
    {
        using var netlink = NetlinkHandle.Open();
        var reconciler = new NodeReconciler("node1", new AgentSettings("trellis0", Path.Combine(_directory, "ipam")),
            new NodeKernel(netlink, NullLogger.Instance), new NftablesRunner(["ip", "netns", "exec", _node.Name, "nft"]),
            new ConflistWriter(Path.Combine(_directory, "net.d")), new PluginInstaller(Path.Combine(_directory, "plugin"), Path.Combine(_directory, "bin")),
            NullLogger.Instance);
        return passes(reconciler, netlink);
    });

    /// <summary>The NodeSubnets as node1's agent caches them.</summary>
    private static IReadOnlyList<CachedSubnet> Cached(IEnumerable<NodeSubnet> subnets) => [.. subnets.Select(s => CachedSubnet.Of(s, "node1"))];

    private static IReadOnlyList<NodeSubnet> DualStack(string mode) =>
    [
        Subnet("node1", "192.168.1.11", mode, ["10.244.1.0/24", "fd10::1:0:0:0/80"], ["fd00::11"], networkCidrs: ["10.244.0.0/16", "fd10::/64"]),
        Subnet("node2", "192.168.1.12", mode, ["10.244.2.0/24", "fd10::2:0:0:0/80"], ["fd00::12"], networkCidrs: ["10.244.0.0/16", "fd10::/64"]),
    ];

    [Fact]
    public void Dual_stack_direct_programs_both_families_and_a_second_pass_changes_nothing()
    {
        var (first, second, writes) = InNode((reconciler, netlink) =>
        {
            var first = reconciler.Reconcile(Cached(DualStack(RoutingModes.Direct)), full: true);
            var routesBefore = _node.Exec("ip", "-6", "route", "show", "proto", "148") + _node.Exec("ip", "route", "show", "proto", "148");
            var second = reconciler.Reconcile(Cached(DualStack(RoutingModes.Direct)), full: true);
            var routesAfter = _node.Exec("ip", "-6", "route", "show", "proto", "148") + _node.Exec("ip", "route", "show", "proto", "148");
            return (first, second, (routesBefore, routesAfter));
        });

        Assert.True(first.Outcome.Programmed, first.Outcome.Message);
        Assert.True(second.Outcome.Programmed, second.Outcome.Message);
        Assert.Contains("10.244.2.0/24 via 192.168.1.12 dev eth0", writes.routesBefore);
        Assert.Contains("fd10::2:0:0:0/80 via fd00::12 dev eth0", writes.routesBefore);
        Assert.Equal(writes.routesBefore, writes.routesAfter);
        Assert.Equal("1", _node.Exec("sysctl", "-n", "net.ipv4.ip_forward").Trim());
        Assert.Equal("1", _node.Exec("sysctl", "-n", "net.ipv6.conf.all.forwarding").Trim());
        var bridge = _node.Exec("ip", "addr", "show", "dev", "trellis0");
        Assert.Contains("10.244.1.1/24", bridge);
        Assert.Contains("fd10::1:0:0:1/80", bridge);
        Assert.Contains("table inet trellis", _node.Exec("nft", "list", "tables"));
    }

    [Fact]
    public void Switching_from_vxlan_to_direct_replaces_routes_and_removes_the_device()
    {
        InNode((reconciler, _) =>
        {
            var vxlan = reconciler.Reconcile(Cached(Classic(RoutingModes.Vxlan)), full: true);
            Assert.True(vxlan.Outcome.Programmed, vxlan.Outcome.Message);
            Assert.Contains("10.244.2.0/24 via 10.244.2.0 dev trellis.vxlan proto 148 onlink", _node.Exec("ip", "route"));
            Assert.Contains("10.244.1.0/32", _node.Exec("ip", "addr", "show", "dev", "trellis.vxlan"));

            var direct = reconciler.Reconcile(Cached(Classic(RoutingModes.Direct)), full: false);
            Assert.True(direct.Outcome.Programmed, direct.Outcome.Message);
            return true;
        });
        var routes = _node.Exec("ip", "route");
        Assert.Contains("10.244.2.0/24 via 192.168.1.12 dev eth0 proto 148", routes);
        Assert.DoesNotContain("trellis.vxlan", routes);
        Assert.False(_node.Run("ip", "link", "show", "trellis.vxlan").Succeeded);
    }

    [Fact]
    public void Vxlan_takes_its_mtu_from_the_underlay_and_its_mac_from_the_node_address()
    {
        // A non-default underlay MTU, so a constant 1450 could not pass.
        _node.Exec("ip", "link", "set", "eth0", "mtu", "1400");
        var result = InNode((reconciler, _) => reconciler.Reconcile(Cached(Classic(RoutingModes.Vxlan)), full: true));

        Assert.True(result.Outcome.Programmed, result.Outcome.Message);
        var vxlan = _node.Exec("ip", "-d", "link", "show", "trellis.vxlan");
        Assert.Contains("mtu 1350", vxlan);
        Assert.Contains("vxlan id 42", vxlan);
        Assert.Contains("dstport 4789", vxlan);
        // Peers derive this address from 192.168.1.11 on their own: no exchange, no ARP.
        Assert.Contains("link/ether 0e:74:c0:a8:01:0b", vxlan);
        Assert.Contains("mtu 1350", _node.Exec("ip", "link", "show", "trellis0"));
        Assert.Contains("\"mtu\": 1350", File.ReadAllText(Path.Combine(_directory, "net.d", NodeContract.ConflistFileName)));
        Assert.Contains("10.244.2.0 lladdr 0e:74:c0:a8:01:0c PERMANENT", _node.Exec("ip", "neigh", "show", "dev", "trellis.vxlan"));
    }

    [Fact]
    public void Vxlan_removes_only_its_own_stale_fdb_and_neighbour_entries()
    {
        var result = InNode((reconciler, _) =>
        {
            var first = reconciler.Reconcile(Cached(Classic(RoutingModes.Vxlan)), full: true);
            Assert.True(first.Outcome.Programmed, first.Outcome.Message);
            // Another owner's entries on Trellis's device: a flooding destination, a static MAC, a permanent neighbour.
            _node.Exec("bridge", "fdb", "append", "00:00:00:00:00:00", "dev", "trellis.vxlan", "dst", "192.168.1.50");
            _node.Exec("bridge", "fdb", "append", "02:42:ac:11:00:02", "dev", "trellis.vxlan", "dst", "192.168.1.51");
            _node.Exec("ip", "neigh", "add", "10.244.50.0", "lladdr", "02:42:ac:11:00:02", "dev", "trellis.vxlan", "nud", "permanent");
            _node.Exec("ip", "neigh", "add", "10.244.51.0", "lladdr", "02:42:ac:11:00:03", "dev", "trellis.vxlan", "nud", "permanent", "proto", "static");
            // Trellis's own entries for a peer that has gone (marked as the agent marks them).
            _node.Exec("bridge", "fdb", "append", "0e:74:c0:a8:01:2c", "dev", "trellis.vxlan", "dst", "192.168.1.44");
            _node.Exec("ip", "neigh", "add", "10.244.44.0", "lladdr", "0e:74:c0:a8:01:2c", "dev", "trellis.vxlan", "nud", "permanent", "proto", "148");
            return reconciler.Reconcile(Cached(Classic(RoutingModes.Vxlan)), full: true);
        });

        Assert.True(result.Outcome.Programmed, result.Outcome.Message);
        var fdb = _node.Exec("bridge", "fdb", "show", "dev", "trellis.vxlan");
        Assert.Contains("00:00:00:00:00:00 dst 192.168.1.50", fdb);
        Assert.Contains("02:42:ac:11:00:02 dst 192.168.1.51", fdb);
        Assert.DoesNotContain("0e:74:c0:a8:01:2c", fdb);
        Assert.Contains("0e:74:c0:a8:01:0c dst 192.168.1.12", fdb);
        Assert.Contains("0e:74:c0:a8:01:0d dst 192.168.1.13", fdb);
        var neighbours = _node.Exec("ip", "neigh", "show", "dev", "trellis.vxlan");
        Assert.Contains("10.244.50.0 lladdr 02:42:ac:11:00:02 PERMANENT", neighbours);
        Assert.Contains("10.244.51.0 lladdr 02:42:ac:11:00:03 PERMANENT", neighbours);
        Assert.DoesNotContain("10.244.44.0", neighbours);
        Assert.Contains("10.244.3.0 lladdr 0e:74:c0:a8:01:0d PERMANENT", neighbours);
    }

    [Fact]
    public void A_foreign_neighbour_in_the_way_is_kept_and_reported_by_name()
    {
        var result = InNode((reconciler, _) =>
        {
            Assert.True(reconciler.Reconcile(Cached(Classic(RoutingModes.Vxlan)), full: true).Outcome.Programmed);
            _node.Exec("ip", "neigh", "replace", "10.244.3.0", "lladdr", "02:42:ac:11:00:09", "dev", "trellis.vxlan", "nud", "permanent", "proto", "static");
            // The periodic resync (a full pass) is what looks at entries changed behind the agent's back.
            return reconciler.Reconcile(Cached(Classic(RoutingModes.Vxlan)), full: true);
        });

        Assert.False(result.Outcome.Programmed);
        Assert.Equal(ReconcileOutcome.ReasonKernelError, result.Outcome.Reason);
        Assert.Contains("10.244.3.0", result.Outcome.Message);
        Assert.Contains("10.244.3.0 lladdr 02:42:ac:11:00:09 PERMANENT", _node.Exec("ip", "neigh", "show", "dev", "trellis.vxlan"));
    }

    [Fact]
    public void A_foreign_route_in_the_way_is_kept_and_reported_by_name()
    {
        _node.Exec("ip", "route", "add", "10.244.3.0/24", "via", "192.168.1.99", "proto", "static");
        var result = InNode((reconciler, _) => reconciler.Reconcile(Cached(Classic(RoutingModes.Direct)), full: true));

        Assert.False(result.Outcome.Programmed);
        Assert.Equal(ReconcileOutcome.ReasonKernelError, result.Outcome.Reason);
        Assert.Contains("10.244.3.0/24", result.Outcome.Message);
        var routes = _node.Exec("ip", "route");
        Assert.Contains("10.244.3.0/24 via 192.168.1.99 dev eth0 proto static", routes);
        Assert.Contains("10.244.2.0/24 via 192.168.1.12 dev eth0 proto 148", routes);
    }

    [Fact]
    public void An_underlay_that_no_interface_holds_changes_nothing()
    {
        var subnets = Classic(RoutingModes.Direct).ToList();
        subnets[0] = Subnet("node1", "192.168.7.7", RoutingModes.Direct, ["10.244.1.0/24"]);
        var result = InNode((reconciler, _) => reconciler.Reconcile(Cached(subnets), full: true));

        Assert.Equal(ReconcileOutcome.ReasonUnderlayNotFound, result.Outcome.Reason);
        Assert.Contains("192.168.7.7", result.Outcome.Message);
        Assert.False(_node.Run("ip", "link", "show", "trellis0").Succeeded);
        Assert.DoesNotContain("proto 148", _node.Exec("ip", "route"));
    }
}
