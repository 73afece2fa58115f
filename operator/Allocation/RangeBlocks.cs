using Trellis.Addressing;

namespace Trellis.Operator.Allocation;

/// <summary>
/// The blocks of one range, by index, in O(log n) per operation however large the range:
/// every index at or above a high-water mark is free unless listed in <c>_takenAbove</c>,
/// every index below it is taken unless listed in <c>_released</c>. Handing out the lowest
/// free index is then the smallest released one, or the mark itself.
/// </summary>
internal sealed class RangeBlocks
{
    private readonly SortedSet<UInt128> _released = new();
    private readonly SortedSet<UInt128> _takenAbove = new();
    private UInt128 _next;

    public RangeBlocks(Cidr range, int blockSize)
    {
        Range = range;
        BlockSize = blockSize;
        Count = blockSize >= range.PrefixLength && blockSize <= range.AddressBits ? range.SubnetCount(blockSize) : UInt128.Zero;
    }

    public Cidr Range { get; }
    public int BlockSize { get; }

    /// <summary>Blocks the range holds; zero when the block length does not fit the range.</summary>
    public UInt128 Count { get; }

    /// <summary>Indices taken because another block (another network's, or one of another length) overlaps them.</summary>
    public SortedSet<UInt128> Shadowed { get; } = new();

    public UInt128 TakenCount => _next - (UInt128)_released.Count + (UInt128)_takenAbove.Count;

    public bool TryTakeLowest(out UInt128 index)
    {
        if (_released.Count > 0)
        {
            index = _released.Min;
            _released.Remove(index);
            return true;
        }
        while (_next < Count)
        {
            var candidate = _next++;
            if (!_takenAbove.Remove(candidate))
            {
                index = candidate;
                return true;
            }
        }
        index = default;
        return false;
    }

    /// <summary>Takes one index; false when it was already taken.</summary>
    public bool Take(UInt128 index) => index < _next ? _released.Remove(index) : _takenAbove.Add(index);

    public void Free(UInt128 index)
    {
        if (index < _next) _released.Add(index);
        else _takenAbove.Remove(index);
    }

    public Cidr BlockAt(UInt128 index) => Range.Subnet(BlockSize, index);

    /// <summary>The index of <paramref name="block"/> when it is exactly one of this range's blocks.</summary>
    public bool TryIndexOf(Cidr block, out UInt128 index)
    {
        index = default;
        if (Count == UInt128.Zero || block.PrefixLength != BlockSize || !Range.Contains(block)) return false;
        index = Range.SubnetIndex(block);
        return true;
    }

    /// <summary>The indices whose blocks overlap <paramref name="other"/>, as an inclusive span; false when none do.</summary>
    public bool TrySpanOf(Cidr other, out UInt128 first, out UInt128 last)
    {
        first = last = default;
        if (Count == UInt128.Zero || !Range.Overlaps(other)) return false;
        var inside = Range.Contains(other) ? other : Range;
        if (inside.PrefixLength >= BlockSize)
        {
            first = last = Range.SubnetIndex(Cidr.Containing(inside.Network, BlockSize));
            return true;
        }
        first = Range.SubnetIndex(Cidr.Containing(inside.Network, BlockSize));
        last = Range.SubnetIndex(Cidr.Containing(inside.Last, BlockSize));
        return true;
    }
}
