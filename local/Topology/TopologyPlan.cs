using System.Net;
using Trellis.Addressing;

namespace Trellis.Local.Topology;

/// <summary>How the simulated nodes' underlay is laid out.</summary>
public enum TopologyKind
{
    /// <summary>One L2 segment: every node on 192.168.1.0/24 (.11, .12, …) and fd00:192:168:1::/64 (::11, ::12, …).</summary>
    L2,

    /// <summary>Every node on a subnet of its own behind a router: no two nodes share L2.</summary>
    Routed,

    /// <summary>Two L2 groups joined by a router.</summary>
    Mixed,
}

/// <summary>
/// One L2 segment of the underlay, dual-stack: a bridge in the underlay namespace, which also routes
/// between segments and holds the segment's gateway address in each family.
/// </summary>
public sealed record UnderlaySegment(int Index, string BridgeName, Cidr Subnet, IPAddress Gateway, Cidr Subnet6, IPAddress Gateway6)
{
    public IpPrefix GatewayPrefix => new(Gateway, Subnet.PrefixLength);
    public IpPrefix Gateway6Prefix => new(Gateway6, Subnet6.PrefixLength);
}

/// <summary>A node: its namespace, its underlay addresses (IPv4 and IPv6) and the underlay link that joins it to its segment.</summary>
public sealed record PlannedNode(string Name, string Namespace, int Ordinal, UnderlaySegment Segment, IpPrefix Address, IpPrefix Address6, string UnderlayLinkName);

/// <summary>
/// The underlay a local cluster lives on, as pure data: which namespaces, segments, links and
/// addresses exist. The underlay namespace is the segments' switch and the router between them,
/// and holds the control-plane address the agents reach the API server at.
/// </summary>
public sealed record TopologyPlan(string Prefix, TopologyKind Kind, string UnderlayNamespace, IReadOnlyList<UnderlaySegment> Segments, IReadOnlyList<PlannedNode> Nodes)
{
    public const int MaxNodes = 200;
    public const int ApiPort = 6443;

    /// <summary>Where agents reach the API server: the first segment's gateway, routed to from every node.</summary>
    public IPAddress ApiAddress => Segments[0].Gateway;

    public static string NodeName(int ordinal) => $"node{ordinal}";

    public static TopologyPlan Create(string prefix, TopologyKind kind, int nodeCount) =>
        Create(prefix, kind, Enumerable.Range(1, nodeCount).Select(NodeName).ToList());

    /// <summary>Plans the underlay for the named nodes; ordinals come from their position (node N is N-th).</summary>
    public static TopologyPlan Create(string prefix, TopologyKind kind, IReadOnlyList<string> nodeNames)
    {
        if (nodeNames.Count is < 1 or > MaxNodes)
            throw new ArgumentOutOfRangeException(nameof(nodeNames), $"a local cluster has 1 to {MaxNodes} nodes, not {nodeNames.Count}");
        if (kind == TopologyKind.Mixed && nodeNames.Count < 2)
            throw new ArgumentException("a mixed topology needs at least 2 nodes (two L2 groups)", nameof(nodeNames));

        var nodes = new List<PlannedNode>();
        var segments = new Dictionary<int, UnderlaySegment>();
        for (int i = 0; i < nodeNames.Count; i++)
        {
            int ordinal = i + 1;
            int segmentIndex = SegmentOf(kind, i, nodeNames.Count);
            if (!segments.TryGetValue(segmentIndex, out var segment))
                segments[segmentIndex] = segment = Segment(segmentIndex);
            var address = new IpPrefix(segment.Subnet.AddressAt((UInt128)(10 + ordinal)), segment.Subnet.PrefixLength);
            var address6 = new IpPrefix(SameDigits(segment.Subnet6, 10 + ordinal), segment.Subnet6.PrefixLength);
            nodes.Add(new PlannedNode(nodeNames[i], $"{prefix}-{nodeNames[i]}", ordinal, segment, address, address6, $"u-{nodeNames[i]}"));
        }
        return new TopologyPlan(prefix, kind, $"{prefix}-underlay", segments.Values.OrderBy(s => s.Index).ToList(), nodes);
    }

    /// <summary>Segment k is 192.168.(k+1).0/24 and fd00:192:168:(k+1)::/64, with the router at .1 and ::1.</summary>
    public static UnderlaySegment Segment(int index)
    {
        var subnet = Cidr.Parse($"192.168.{index + 1}.0/24");
        var subnet6 = Cidr.Parse($"fd00:192:168:{index + 1}::/64");
        return new UnderlaySegment(index, $"seg{index}", subnet, subnet.AddressAt(1), subnet6, subnet6.AddressAt(1));
    }

    /// <summary>The IPv6 address of <paramref name="subnet"/> whose last group reads as <paramref name="host"/> does in decimal (::11 beside .11), so a reader pairs them at a glance.</summary>
    private static IPAddress SameDigits(Cidr subnet, int host) =>
        subnet.AddressAt(UInt128.Parse(host.ToString(System.Globalization.CultureInfo.InvariantCulture), System.Globalization.NumberStyles.HexNumber));

    /// <summary>The segment a node joins: node i of n.</summary>
    public static int SegmentOf(TopologyKind kind, int index, int count) => kind switch
    {
        TopologyKind.L2 => 0,
        TopologyKind.Routed => index,
        TopologyKind.Mixed => index < (count + 1) / 2 ? 0 : 1,
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };
}
