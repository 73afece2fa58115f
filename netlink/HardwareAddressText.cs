using System.Net.NetworkInformation;

namespace Trellis.Netlink;

/// <summary>MAC addresses as people and iproute2 write them ("aa:bb:cc:dd:ee:ff"), for messages.</summary>
internal static class HardwareAddressText
{
    public static string Format(PhysicalAddress? address) =>
        address is null ? "none" : string.Join(':', address.GetAddressBytes().Select(b => b.ToString("x2")));
}
