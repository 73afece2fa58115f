using System.Net.Sockets;

namespace Trellis.NetworkPolicy.Ruleset;

public enum IpFamily
{
    V4,
    V6,
}

/// <summary>Which address of a packet a rule looks at.</summary>
public enum PacketEnd
{
    Source,
    Destination,
}

public static class IpFamilies
{
    public static readonly IReadOnlyList<IpFamily> All = [IpFamily.V4, IpFamily.V6];

    public static IpFamily Of(System.Net.Sockets.AddressFamily family) => family == System.Net.Sockets.AddressFamily.InterNetworkV6 ? IpFamily.V6 : IpFamily.V4;

    public static AddressFamily AddressFamily(this IpFamily family) =>
        family == IpFamily.V4 ? System.Net.Sockets.AddressFamily.InterNetwork : System.Net.Sockets.AddressFamily.InterNetworkV6;

    /// <summary>The nftables payload keyword: "ip" or "ip6".</summary>
    public static string Keyword(this IpFamily family) => family == IpFamily.V4 ? "ip" : "ip6";

    /// <summary>The nftables address type: "ipv4_addr" or "ipv6_addr".</summary>
    public static string AddressType(this IpFamily family) => family == IpFamily.V4 ? "ipv4_addr" : "ipv6_addr";

    /// <summary>"4" or "6", the suffix of per-family object names.</summary>
    public static string Suffix(this IpFamily family) => family == IpFamily.V4 ? "4" : "6";

    public static string Keyword(this PacketEnd end) => end == PacketEnd.Source ? "saddr" : "daddr";
}
