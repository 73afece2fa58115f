using System.Net;
using Trellis.Addressing;

namespace Trellis.NodeAgent.Planning;

public sealed record BridgeDevice(string Name, int Mtu);

public sealed record VxlanDevice(string Name, int Vni, int Port, IPAddress Local, int UnderlayLinkIndex, int Mtu, MacAddress Mac);

public enum RouteLink
{
    /// <summary>Straight to the peer's underlay address on the underlay interface.</summary>
    Underlay,

    /// <summary>Onlink through the peer's VTEP address on the vxlan device.</summary>
    Vxlan,
}

public sealed record PlannedRoute(Cidr Destination, IPAddress Gateway, RouteLink Link);

public sealed record PlannedFdb(MacAddress Mac, IPAddress Destination);

public sealed record PlannedNeighbor(IPAddress Address, MacAddress Mac);

/// <summary>The plugin's view of the node: its ranges (one range set per family), bridge and MTU.</summary>
public sealed record CniPlan(string Bridge, int Mtu, IReadOnlyList<IReadOnlyList<Block>> RangeSets, string IpamDataDirectory);

/// <summary>Masquerade traffic from <see cref="Sources"/> to anything outside <see cref="PodRanges"/>.</summary>
public sealed record MasqueradePlan(IReadOnlyList<Cidr> Sources, IReadOnlyList<Cidr> PodRanges);

/// <summary>Everything the node's kernel and CNI configuration should hold, computed without I/O.</summary>
public sealed record NodePlan(
    BridgeDevice Bridge,
    IReadOnlyList<IpPrefix> BridgeAddresses,
    bool ForwardIPv4,
    bool ForwardIPv6,
    VxlanDevice? Vxlan,
    IReadOnlyList<IpPrefix> VtepAddresses,
    IReadOnlyList<PlannedRoute> Routes,
    IReadOnlyList<PlannedFdb> Fdb,
    IReadOnlyList<PlannedNeighbor> Neighbors,
    int PodMtu,
    CniPlan Cni,
    MasqueradePlan? Masquerade,
    IReadOnlyDictionary<string, int> PeersRoutedByNetwork,
    IReadOnlyList<string> Problems)
{
    /// <summary>Blocks refused because they would touch the node's own network; a peer's are also among the <see cref="Problems"/>.</summary>
    public IReadOnlyList<BlockRefusal> Refusals { get; init; } = [];
}
