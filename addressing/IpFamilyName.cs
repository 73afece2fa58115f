using System.Net.Sockets;

namespace Trellis.Addressing;

/// <summary>"IPv4" or "IPv6": how messages name an address family, the one spelling every part uses.</summary>
public static class IpFamilyName
{
    public static string Of(AddressFamily family) => family switch
    {
        AddressFamily.InterNetwork => "IPv4",
        AddressFamily.InterNetworkV6 => "IPv6",
        _ => throw new ArgumentException($"{family} is not an IP address family", nameof(family)),
    };
}
