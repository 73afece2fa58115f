using Trellis.Addressing;
using System.Diagnostics.CodeAnalysis;
using System.Net.Sockets;

namespace Trellis.Operator.Allocation;

public readonly record struct BlockOwner(string Network, string Node);

/// <summary>Every block in use in the cluster, whatever its network, kept sorted so an overlap is found in O(log n).</summary>
internal sealed class BlockRegistry
{
    private static readonly Cidr LowestV4 = Cidr.Parse("0.0.0.0/0");
    private static readonly Cidr HighestV4 = Cidr.Parse("255.255.255.255/32");
    private static readonly Cidr LowestV6 = Cidr.Parse("::/0");
    private static readonly Cidr HighestV6 = Cidr.Parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");

    private readonly SortedSet<Cidr> _v4 = new();
    private readonly SortedSet<Cidr> _v6 = new();
    private readonly Dictionary<Cidr, BlockOwner> _owners = new();

    public int Count => _owners.Count;

    public bool TryGetOwner(Cidr block, out BlockOwner owner) => _owners.TryGetValue(block, out owner);

    /// <summary>A block in use that overlaps <paramref name="candidate"/>. Blocks in use never overlap each other,
    /// so only the nearest one on each side in sort order can.</summary>
    public bool TryFindOverlap(Cidr candidate, [NotNullWhen(true)] out Cidr? found)
    {
        var (set, lowest, highest) = candidate.Family == AddressFamily.InterNetwork ? (_v4, LowestV4, HighestV4) : (_v6, LowestV6, HighestV6);
        found = null;
        if (set.Count == 0) return false;
        // Blocks are mostly handed out in ascending order, so a candidate above everything in use is the common case.
        var max = set.Max;
        if (max.CompareTo(candidate) < 0)
        {
            if (!max.Overlaps(candidate)) return false;
            found = max;
            return true;
        }
        // A view's Count walks the whole view; Min and Max do not (and are default, which overlaps nothing, when empty).
        var below = set.GetViewBetween(lowest, candidate).Max;
        if (below.Overlaps(candidate))
        {
            found = below;
            return true;
        }
        var above = set.GetViewBetween(candidate, highest).Min;
        if (above.Overlaps(candidate))
        {
            found = above;
            return true;
        }
        return false;
    }

    public void Add(Cidr block, BlockOwner owner)
    {
        (block.Family == AddressFamily.InterNetwork ? _v4 : _v6).Add(block);
        _owners[block] = owner;
    }

    public void Remove(Cidr block)
    {
        (block.Family == AddressFamily.InterNetwork ? _v4 : _v6).Remove(block);
        _owners.Remove(block);
    }
}
