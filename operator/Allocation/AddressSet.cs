using System.Net;
using System.Net.Sockets;
using Trellis.Addressing;

namespace Trellis.Operator.Allocation;

/// <summary>Addresses no block may hold (the Nodes' own), sorted per family so "does this block hold any" costs O(log n).</summary>
public sealed class AddressSet
{
    private readonly SortedSet<UInt128> _v4 = new();
    private readonly SortedSet<UInt128> _v6 = new();

    public static readonly AddressSet Empty = new([]);

    public AddressSet(IEnumerable<IPAddress> addresses)
    {
        foreach (var address in addresses)
        {
            if (address.AddressFamily == AddressFamily.InterNetwork) _v4.Add(IpAddressMath.ToUInt128(address));
            else if (address.AddressFamily == AddressFamily.InterNetworkV6) _v6.Add(IpAddressMath.ToUInt128(address));
        }
    }

    public bool AnyIn(Cidr block)
    {
        var set = block.Family == AddressFamily.InterNetwork ? _v4 : _v6;
        if (set.Count == 0) return false;
        var first = IpAddressMath.ToUInt128(block.Network);
        var last = IpAddressMath.ToUInt128(block.Last);
        return set.GetViewBetween(first, last).Count > 0;
    }
}
