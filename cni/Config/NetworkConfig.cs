using Trellis.Addressing;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Trellis.Cni.Spec;
using Trellis.Ipam;

namespace Trellis.Cni.Config;

/// <summary>
/// One range of a range set, canonical: every field is filled in (host-local's defaults)
/// and checked to lie inside <see cref="Subnet"/>.
/// </summary>
public sealed record AddressRange(Cidr Subnet, IPAddress RangeStart, IPAddress RangeEnd, IPAddress Gateway)
{
    public AddressFamily Family => Subnet.Family;

    public override string ToString() => $"{Subnet} ({RangeStart}-{RangeEnd}, gateway {Gateway})";
}

/// <summary>The ranges one address of a family may come from; a pod gets one address per set.</summary>
public sealed record RangeSet(IReadOnlyList<AddressRange> Ranges)
{
    public AddressFamily Family => Ranges[0].Family;

    /// <summary>The range holding <paramref name="address"/> between its start and end, if any.</summary>
    public AddressRange? RangeOf(IPAddress address) =>
        Ranges.FirstOrDefault(r => r.Subnet.Contains(address) && AddressOrder.Between(address, r.RangeStart, r.RangeEnd));

    public override string ToString() => string.Join(", ", Ranges.Select(r => r.Subnet));
}

public sealed record IpamConfig(IReadOnlyList<RangeSet> RangeSets, string DataDir);

/// <summary>
/// The network configuration given on stdin, parsed and validated. <see cref="ValidAttachments"/> is
/// null when the runtime sent none (only GC gets them).
/// </summary>
public sealed record NetworkConfig(
    CniVersion CniVersion,
    string Name,
    string Bridge,
    int? Mtu,
    IpamConfig Ipam,
    DnsSettings Dns,
    JsonObject? PrevResult,
    IReadOnlyList<Attachment>? ValidAttachments);
