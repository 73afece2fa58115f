using k8s.Models;
using Trellis.Crds;
using Trellis.NodeAgent.Planning;
using Trellis.Addressing;

namespace Trellis.NodeAgent.Tests.Planning;

/// <summary>NodeSubnets and underlay facts for planner tests, with the classic topology's numbers as defaults.</summary>
public static class SubnetBuilder
{
    public static NodeSubnet Subnet(string node, string address, string mode = RoutingModes.Direct, string[]? cidrs = null,
        string[]? extraAddresses = null, int mtu = 0, bool nat = true, string network = "pods", string[]? networkCidrs = null, int vni = 42) => new()
    {
        Metadata = new V1ObjectMeta { Name = NodeSubnet.NameFor(network, node), Generation = 3 },
        Spec = new NodeSubnetSpec
        {
            NodeName = node,
            PodNetwork = network,
            Cidrs = cidrs ?? [],
            NodeAddresses = new[] { address }.Concat(extraAddresses ?? []).ToList(),
            NetworkCidrs = networkCidrs ?? ["10.244.0.0/16"],
            Routing = new RoutingSpec { Mode = mode, Vxlan = new VxlanSpec { Vni = vni, Port = 4789 } },
            Mtu = mtu,
            NatOutgoing = nat,
        },
    };

    public static IReadOnlyList<NodeSubnet> Classic(string mode = RoutingModes.Direct) =>
    [
        Subnet("node1", "192.168.1.11", mode, ["10.244.1.0/24"]),
        Subnet("node2", "192.168.1.12", mode, ["10.244.2.0/24"]),
        Subnet("node3", "192.168.1.13", mode, ["10.244.3.0/24"]),
    ];

    public static UnderlayFacts Underlay(string prefix = "192.168.1.11/24", int mtu = 1500, params string[] others) =>
        new(2, "eth0", mtu, IpPrefix.Parse(prefix), others.Select(IpPrefix.Parse).ToList());

    public static readonly AgentSettings Settings = new("trellis0", "/var/lib/trellis/ipam");

    /// <summary>The guard a node with only its underlay addresses (on eth0), no default route and no known API server would have.</summary>
    public static ProtectedSpace GuardOf(UnderlayFacts underlay) =>
        ProtectedSpace.Of(new[] { underlay.Address }.Concat(underlay.OtherAddresses).Select(a => new LinkAddress(underlay.LinkName, a)), [], []);

    public static NodePlan Plan(string node, IEnumerable<NodeSubnet> subnets, UnderlayFacts? underlay = null, ProtectedSpace? guard = null)
    {
        Assert.True(OwnAndPeerSubnets.TryBuild(node, subnets, out var view, out var error), error);
        underlay ??= Underlay();
        return NodePlanner.Plan(view, underlay, guard ?? GuardOf(underlay), Settings);
    }
}
