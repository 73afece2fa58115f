namespace Trellis.NetworkPolicy.Ruleset;

/// <summary>One rule of a chain; <see cref="Render"/> is its nftables text.</summary>
public abstract record NftRule
{
    public abstract string Render();
}

/// <summary>Replies and related packets (ICMP errors) of connections already allowed pass.</summary>
public sealed record AcceptEstablished : NftRule
{
    public override string Render() => "ct state established,related accept";
}

/// <summary>
/// IPv6 neighbour solicitations and advertisements pass: without them bridged pods cannot find
/// each other's link addresses, and an isolated pod could not even answer for its own address.
/// (IPv4's ARP never meets the inet hooks.)
/// </summary>
public sealed record AcceptNeighborDiscovery : NftRule
{
    public override string Render() => "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept";
}

/// <summary>Sends a packet to the chain its pod's address maps to; other packets go on.</summary>
public sealed record DispatchRule(IpFamily Family, PacketEnd End, string Map) : NftRule
{
    public override string Render() => $"{Family.Keyword()} {End.Keyword()} vmap @{Map}";
}

public sealed record JumpRule(string Chain) : NftRule
{
    public override string Render() => $"jump {Chain}";
}

/// <summary>Counts the packet on each named counter and, when <see cref="Drop"/>, drops it.</summary>
public sealed record CountRule(IReadOnlyList<string> Counters, bool Drop) : NftRule
{
    public override string Render() =>
        string.Join(' ', Counters.Select(c => $"counter name {c}").Append(Drop ? "drop" : "")).TrimEnd();
}

/// <summary>The peer's address (source for ingress, destination for egress) is in an address set.</summary>
public sealed record PeerMatch(IpFamily Family, PacketEnd End, string Set);

/// <summary>
/// Accepts a packet that matches every part given: the peer's address set, the (protocol, port)
/// set, and the set of (destination address, protocol, port) of named ports.
/// </summary>
public sealed record AllowRule(PeerMatch? Peer, string? PortSet, (IpFamily Family, string Set)? NamedPorts) : NftRule
{
    public override string Render()
    {
        var parts = new List<string>();
        if (Peer is { } peer) parts.Add($"{peer.Family.Keyword()} {peer.End.Keyword()} @{peer.Set}");
        if (PortSet is { } ports) parts.Add($"meta l4proto . th dport @{ports}");
        if (NamedPorts is { } named) parts.Add($"{named.Family.Keyword()} daddr . meta l4proto . th dport @{named.Set}");
        parts.Add("accept");
        return string.Join(' ', parts);
    }
}
