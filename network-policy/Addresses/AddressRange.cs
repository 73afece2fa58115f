using System.Net;
using System.Net.Sockets;
using Trellis.Addressing;

namespace Trellis.NetworkPolicy.Addresses;

/// <summary>The addresses First..Last (inclusive) of one family, as 128-bit integers.</summary>
public readonly record struct AddressRange(AddressFamily Family, UInt128 First, UInt128 Last) : IComparable<AddressRange>
{
    public static AddressRange Of(IPAddress address)
    {
        var value = IpAddressMath.ToUInt128(address);
        return new AddressRange(address.AddressFamily, value, value);
    }

    public static AddressRange Of(Cidr cidr)
    {
        var first = IpAddressMath.ToUInt128(cidr.Network);
        return new AddressRange(cidr.Family, first, IpAddressMath.ToUInt128(cidr.Last));
    }

    public bool Contains(IPAddress address)
    {
        if (address.AddressFamily != Family) return false;
        var value = IpAddressMath.ToUInt128(address);
        return value >= First && value <= Last;
    }

    public int CompareTo(AddressRange other)
    {
        int byFamily = Family.CompareTo(other.Family);
        return byFamily != 0 ? byFamily : First != other.First ? First.CompareTo(other.First) : Last.CompareTo(other.Last);
    }

    /// <summary>The nftables element: one address or "first-last".</summary>
    public override string ToString()
    {
        var first = IpAddressMath.FromUInt128(First, Family).ToString();
        return First == Last ? first : $"{first}-{IpAddressMath.FromUInt128(Last, Family)}";
    }
}

/// <summary>
/// Set algebra on address ranges. Results are canonical (sorted, no two ranges overlapping or
/// touching), so equal address sets always give equal element lists, and nftables interval sets,
/// which refuse overlapping elements, accept them.
/// </summary>
public static class AddressRanges
{
    public static IReadOnlyList<AddressRange> Union(IEnumerable<AddressRange> ranges)
    {
        var sorted = ranges.ToList();
        sorted.Sort();
        var merged = new List<AddressRange>(sorted.Count);
        foreach (var range in sorted)
        {
            if (merged.Count > 0)
            {
                var last = merged[^1];
                if (last.Family == range.Family && (last.Last == UInt128.MaxValue || range.First <= last.Last + 1))
                {
                    if (range.Last > last.Last) merged[^1] = last with { Last = range.Last };
                    continue;
                }
            }
            merged.Add(range);
        }
        return merged;
    }

    /// <summary><paramref name="range"/> without the addresses of <paramref name="holes"/>.</summary>
    public static IEnumerable<AddressRange> Subtract(AddressRange range, IEnumerable<AddressRange> holes)
    {
        var first = range.First;
        foreach (var hole in Union(holes.Where(h => h.Family == range.Family)))
        {
            if (hole.Last < first) continue;
            if (hole.First > range.Last) break;
            if (hole.First > first) yield return range with { First = first, Last = hole.First - 1 };
            if (hole.Last >= range.Last) yield break;
            first = hole.Last + 1;
        }
        yield return range with { First = first };
    }
}
