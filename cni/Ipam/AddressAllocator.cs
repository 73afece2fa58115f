using System.Net;
using Trellis.Addressing;
using Trellis.Cni.Config;

namespace Trellis.Cni.Ipam;

/// <summary>
/// Chooses the next free address of a range set. Pure: what is taken and where the last
/// search ended come in as arguments. The search continues after the last address handed
/// out and wraps around, so a freed address is reused only once every other one is taken
/// (a pod that died a moment ago may still have packets in flight to it). It stays with the
/// plugin rather than in Trellis.Ipam: it works on the plugin's configuration (range sets in
/// host-local's shape) and only the plugin chooses addresses, while Trellis.Ipam holds what is
/// on disk, which the agent reads and frees too.
/// </summary>
public static class AddressAllocator
{
    /// <summary>
    /// The first address after <paramref name="lastReserved"/> (in range order, wrapping) that
    /// may go to a pod and is not taken; null when the set is exhausted.
    /// </summary>
    public static IPAddress? Next(RangeSet set, IPAddress? lastReserved, Func<IPAddress, bool> isTaken)
    {
        foreach (var candidate in Candidates(set, lastReserved))
            if (!isTaken(candidate)) return candidate;
        return null;
    }

    /// <summary>Every address of the set a pod may hold, starting after <paramref name="lastReserved"/> and wrapping around once.</summary>
    public static IEnumerable<IPAddress> Candidates(RangeSet set, IPAddress? lastReserved)
    {
        var ranges = set.Ranges;
        int first = 0;
        UInt128 from = Value(ranges[0].RangeStart);
        if (lastReserved is not null && set.RangeOf(lastReserved) is AddressRange lastRange)
        {
            first = IndexOf(ranges, lastRange);
            var last = Value(lastReserved);
            if (last < Value(lastRange.RangeEnd))
                from = last + 1;
            else
            {
                first = (first + 1) % ranges.Count;
                from = Value(ranges[first].RangeStart);
            }
        }

        for (int k = 0; k <= ranges.Count; k++)
        {
            var range = ranges[(first + k) % ranges.Count];
            UInt128 start = k == 0 ? from : Value(range.RangeStart);
            UInt128 end = Value(range.RangeEnd);
            if (k == ranges.Count)
            {
                // Back in the first range: only the part before where the search began is left.
                if (from == Value(range.RangeStart)) yield break;
                end = from - 1;
            }
            for (var value = start; ; value++)
            {
                var address = IpAddressMath.FromUInt128(value, range.Family);
                if (IsAssignable(range, address)) yield return address;
                if (value == end) break;
            }
        }
    }

    /// <summary>True when <paramref name="address"/> lies in the range and is not its network, gateway or IPv4 broadcast address.</summary>
    public static bool IsAssignable(AddressRange range, IPAddress address)
    {
        if (!range.Subnet.Contains(address) || !AddressOrder.Between(address, range.RangeStart, range.RangeEnd)) return false;
        if (address.Equals(range.Subnet.Network) || address.Equals(range.Gateway)) return false;
        return !(range.Subnet.IsIPv4 && address.Equals(range.Subnet.Last));
    }

    /// <summary>How many addresses of the set may go to pods.</summary>
    public static UInt128 Capacity(RangeSet set)
    {
        UInt128 total = 0;
        foreach (var range in set.Ranges)
        {
            var count = Value(range.RangeEnd) - Value(range.RangeStart) + 1;
            foreach (var excluded in Excluded(range))
                if (AddressOrder.Between(excluded, range.RangeStart, range.RangeEnd)) count--;
            total += count;
        }
        return total;
    }

    private static IEnumerable<IPAddress> Excluded(AddressRange range)
    {
        var network = range.Subnet.Network;
        yield return network;
        if (!range.Gateway.Equals(network)) yield return range.Gateway;
        var last = range.Subnet.Last;
        if (range.Subnet.IsIPv4 && !last.Equals(network) && !last.Equals(range.Gateway)) yield return last;
    }

    private static int IndexOf(IReadOnlyList<AddressRange> ranges, AddressRange range)
    {
        for (int i = 0; i < ranges.Count; i++)
            if (ReferenceEquals(ranges[i], range)) return i;
        return 0;
    }

    private static UInt128 Value(IPAddress address) => IpAddressMath.ToUInt128(address);
}
