using System.Net.Sockets;

namespace Trellis.Bgp.Messages;

/// <summary>An address family and subsequent address family (RFC 4760): which kind of routes a message carries.</summary>
public readonly record struct AfiSafi(ushort Afi, byte Safi)
{
    public const ushort AfiIPv4 = 1;
    public const ushort AfiIPv6 = 2;
    public const byte SafiUnicast = 1;

    public static readonly AfiSafi IPv4Unicast = new(AfiIPv4, SafiUnicast);
    public static readonly AfiSafi IPv6Unicast = new(AfiIPv6, SafiUnicast);

    /// <summary>The two families this speaker carries prefixes for.</summary>
    public bool IsUnicastIP => Safi == SafiUnicast && Afi is AfiIPv4 or AfiIPv6;

    public AddressFamily AddressFamily => Afi switch
    {
        AfiIPv4 => AddressFamily.InterNetwork,
        AfiIPv6 => AddressFamily.InterNetworkV6,
        _ => AddressFamily.Unknown,
    };

    public static AfiSafi UnicastFor(AddressFamily family) => family switch
    {
        AddressFamily.InterNetwork => IPv4Unicast,
        AddressFamily.InterNetworkV6 => IPv6Unicast,
        _ => throw new ArgumentOutOfRangeException(nameof(family), family, "only IPv4 and IPv6 are carried"),
    };

    public override string ToString() => this == IPv4Unicast ? "IPv4 unicast"
        : this == IPv6Unicast ? "IPv6 unicast" : $"AFI {Afi} SAFI {Safi}";
}
