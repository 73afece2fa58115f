using System.Net;
using Trellis.Addressing;

namespace Trellis.Cni.Config;

/// <summary>Orders addresses of one family numerically.</summary>
public static class AddressOrder
{
    public static int Compare(IPAddress a, IPAddress b) =>
        IpAddressMath.ToUInt128(a).CompareTo(IpAddressMath.ToUInt128(b));

    public static bool Between(IPAddress address, IPAddress first, IPAddress last) =>
        address.AddressFamily == first.AddressFamily && Compare(first, address) <= 0 && Compare(address, last) <= 0;
}
