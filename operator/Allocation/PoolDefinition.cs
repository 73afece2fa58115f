using Trellis.Addressing;
using System.Net.Sockets;

namespace Trellis.Operator.Allocation;

/// <summary>
/// What the allocator needs to know of one PodNetwork: its ranges in spec order (appended
/// ranges last, so they are drawn from after the older ones), the block length per family,
/// and whether new blocks may be handed out at all (an invalid network keeps its blocks but gets no new one).
/// </summary>
public sealed record PoolDefinition(string Network, IReadOnlyList<Cidr> Ranges, int IPv4BlockSize, int IPv6BlockSize, bool Valid)
{
    public int BlockSizeFor(AddressFamily family) => family == AddressFamily.InterNetwork ? IPv4BlockSize : IPv6BlockSize;

    public bool Equivalent(PoolDefinition other) =>
        Network == other.Network && IPv4BlockSize == other.IPv4BlockSize && IPv6BlockSize == other.IPv6BlockSize &&
        Valid == other.Valid && Ranges.SequenceEqual(other.Ranges);
}
