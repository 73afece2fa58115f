using System.Net;
using Trellis.Addressing;

namespace Trellis.Bgp.Speaker;

/// <summary>A router this speaker peers with.</summary>
/// <param name="Password">TCP MD5 (RFC 2385) key, or null for none.</param>
/// <param name="GracefulRestartTime">How long the peer should keep this speaker's routes while it restarts; null turns graceful restart off.</param>
public sealed record BgpPeer(IPAddress Address, uint Asn, ushort Port = BgpPeer.DefaultPort, string? Password = null,
    TimeSpan? HoldTime = null, TimeSpan? GracefulRestartTime = null)
{
    public const ushort DefaultPort = 179;
    public static readonly TimeSpan DefaultHoldTime = TimeSpan.FromSeconds(90);

    public TimeSpan EffectiveHoldTime => HoldTime ?? DefaultHoldTime;
}

/// <summary>
/// Everything the speaker should be doing, as one value: who it is, whom it peers with, and
/// which prefixes it announces. <see cref="BgpSpeaker.Apply"/> makes that so.
/// </summary>
/// <param name="IPv4NextHop">The next hop of IPv4 prefixes (the node's underlay address); without one they are not announced.</param>
/// <param name="IPv6NextHop">The next hop of IPv6 prefixes, sent in MP_REACH_NLRI.</param>
public sealed record BgpConfiguration(uint Asn, IPAddress RouterId, IReadOnlyList<BgpPeer> Peers, IReadOnlyCollection<Cidr> Prefixes,
    IPAddress? IPv4NextHop, IPAddress? IPv6NextHop)
{
    public const uint DefaultAsn = 64512;

    /// <summary>Each prefix with its family's next hop; prefixes of a family without a next hop are left out.</summary>
    public IReadOnlyDictionary<Cidr, IPAddress> Routes()
    {
        var routes = new Dictionary<Cidr, IPAddress>();
        foreach (var prefix in Prefixes)
            if ((prefix.IsIPv4 ? IPv4NextHop : IPv6NextHop) is { } hop) routes[prefix] = hop;
        return routes;
    }

    /// <summary>Problems that would make a session impossible, each naming the field.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Asn == 0) errors.Add("asn: 0 is reserved");
        if (RouterId.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork || RouterId.Equals(IPAddress.Any))
            errors.Add($"routerId: {RouterId} is not a non-zero IPv4 address");
        if (IPv4NextHop is { AddressFamily: not System.Net.Sockets.AddressFamily.InterNetwork })
            errors.Add($"IPv4 next hop {IPv4NextHop} is not IPv4");
        if (IPv6NextHop is { AddressFamily: not System.Net.Sockets.AddressFamily.InterNetworkV6 })
            errors.Add($"IPv6 next hop {IPv6NextHop} is not IPv6");
        foreach (var group in Peers.GroupBy(p => p.Address).Where(g => g.Count() > 1))
            errors.Add($"peers: {group.Key} appears {group.Count()} times");
        foreach (var peer in Peers)
        {
            if (peer.Asn == 0) errors.Add($"peers[{peer.Address}].asn: 0 is reserved");
            if (peer.Port == 0) errors.Add($"peers[{peer.Address}].port: 0 is not a port");
            if (peer.EffectiveHoldTime != TimeSpan.Zero && peer.EffectiveHoldTime < TimeSpan.FromSeconds(3) || peer.EffectiveHoldTime > TimeSpan.FromSeconds(ushort.MaxValue))
                errors.Add($"peers[{peer.Address}].holdTime: {peer.EffectiveHoldTime.TotalSeconds} s must be 0 or 3..65535 s");
            if (peer.Password is { } password && (password.Length == 0 || System.Text.Encoding.UTF8.GetByteCount(password) > TcpMd5.MaxKeyLength))
                errors.Add($"peers[{peer.Address}].password: must be 1..{TcpMd5.MaxKeyLength} octets");
            if (peer.GracefulRestartTime is { } restart && (restart < TimeSpan.Zero || restart.TotalSeconds > 4095))
                errors.Add($"peers[{peer.Address}].gracefulRestart: restart time {restart.TotalSeconds} s must be 0..4095 s");
        }
        return errors;
    }
}
