using System.Net;
using System.Net.Sockets;
using Trellis.Addressing;

namespace Trellis.NodeAgent.Planning;

/// <summary>An address the node holds outside Trellis's own devices, and the link that holds it.</summary>
public sealed record LinkAddress(string Link, IpPrefix Address);

/// <summary>A range no block may overlap, and what it is (for the refusal's message).</summary>
public sealed record ProtectedRange(Cidr Range, string What);

/// <summary>A block the agent will neither route nor put on its bridge, and why.</summary>
public sealed record BlockRefusal(string Subnet, bool Own, Cidr Block, string Reason)
{
    public string Message => $"NodeSubnet {Subnet}: block {Block} refused: {Reason}";
}

/// <summary>
/// What no block may touch, whatever a NodeSubnet says, so that no object can cut the node off: the node's
/// own addresses and subnets (a pod bridge must never hold an underlay address), the gateways of its
/// default routes, the API server (whose route Trellis must never shadow), loopback, link-local, multicast
/// and the other special ranges; and no block may be shorter than /8 (IPv4) or /32 (IPv6).
/// </summary>
public sealed class ProtectedSpace
{
    public const int ShortestIPv4Block = 8;
    public const int ShortestIPv6Block = 32;

    private static readonly ProtectedRange[] Special =
    [
        new(Cidr.Parse("0.0.0.0/8"), "the IPv4 'this network' range 0.0.0.0/8"),
        new(Cidr.Parse("127.0.0.0/8"), "the IPv4 loopback range 127.0.0.0/8"),
        new(Cidr.Parse("169.254.0.0/16"), "the IPv4 link-local range 169.254.0.0/16"),
        new(Cidr.Parse("224.0.0.0/4"), "the IPv4 multicast range 224.0.0.0/4"),
        new(Cidr.Parse("255.255.255.255/32"), "the IPv4 broadcast address"),
        new(Cidr.Parse("::/128"), "the IPv6 unspecified address"),
        new(Cidr.Parse("::1/128"), "the IPv6 loopback address"),
        new(Cidr.Parse("fe80::/10"), "the IPv6 link-local range fe80::/10"),
        new(Cidr.Parse("ff00::/8"), "the IPv6 multicast range ff00::/8"),
    ];

    private ProtectedSpace(IReadOnlyList<ProtectedRange> ranges) => Ranges = ranges;

    /// <summary>Only the special ranges and the prefix bounds (a node whose kernel has not been read yet).</summary>
    public static ProtectedSpace SpecialOnly { get; } = new(Special);

    public IReadOnlyList<ProtectedRange> Ranges { get; }

    public static ProtectedSpace Of(IEnumerable<LinkAddress> hostAddresses, IEnumerable<IPAddress> defaultGateways, IEnumerable<IPAddress> apiServer)
    {
        var ranges = new List<ProtectedRange>(Special);
        foreach (var (link, address) in hostAddresses)
            ranges.Add(new ProtectedRange(address.Network, $"the subnet {address.Network} of the node's address {address.Address} on {link}"));
        foreach (var gateway in defaultGateways)
            ranges.Add(new ProtectedRange(Host(gateway), $"the gateway {gateway} of the node's default route"));
        foreach (var address in apiServer)
            ranges.Add(new ProtectedRange(Host(address), $"the API server's address {address}"));
        return new ProtectedSpace(ranges);
    }

    /// <summary>Why <paramref name="block"/> must be refused, or null when it is safe.</summary>
    public string? Refusal(Cidr block)
    {
        int shortest = block.Family == AddressFamily.InterNetwork ? ShortestIPv4Block : ShortestIPv6Block;
        if (block.PrefixLength < shortest)
            return $"it is shorter than /{shortest}, the largest block an {IpFamilyName.Of(block.Family)} network may give one node";
        foreach (var range in Ranges)
            if (range.Range.Overlaps(block))
                return $"it overlaps {range.What}";
        return null;
    }

    private static Cidr Host(IPAddress address) => Cidr.Containing(address, IpAddressMath.BitLength(address.AddressFamily));
}
