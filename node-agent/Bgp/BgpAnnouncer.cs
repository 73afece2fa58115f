using System.Net;
using Microsoft.Extensions.Logging;
using Trellis.Bgp.Speaker;
using Trellis.Crds;

namespace Trellis.NodeAgent.Bgp;

/// <summary>
/// The agent's BGP speaker: started the first time the node has a BGP peer, given each new
/// <see cref="BgpPlan"/>, and read back into NodeSubnet status. On agent shutdown it closes the
/// sessions without a word, so graceful restart routers keep the node's routes until it returns.
/// </summary>
public sealed class BgpAnnouncer(ILogger logger) : IAsyncDisposable
{
    private BgpSpeaker? _speaker;
    private BgpPlan? _plan;

    /// <summary>Raised when a session's status changed (on the speaker's loop).</summary>
    public event Action? Changed;

    public void Apply(BgpPlan plan)
    {
        foreach (var problem in plan.Problems) logger.LogWarning("{Problem}", problem);
        if (_speaker is null)
        {
            if (!plan.HasPeers) return;
            _speaker = BgpSpeaker.Start(new BgpSpeakerOptions { Logger = logger });
            _speaker.StatusChanged += () => Changed?.Invoke();
            if (_speaker.ListenError is { } listen) logger.LogWarning("BGP: {Error}", listen);
        }
        if (_plan is not null && Same(_plan.Configuration, plan.Configuration))
        {
            _plan = plan;
            return;
        }
        _plan = plan;
        _speaker.Apply(plan.Configuration);
        logger.LogInformation("BGP: AS {Asn} announcing {Prefixes} to {Peers}", plan.Configuration.Asn,
            string.Join(", ", plan.Configuration.Prefixes), string.Join(", ", plan.Configuration.Peers.Select(p => $"{p.Address} AS {p.Asn}")));
    }

    /// <summary>Every peer's session now (none before the first BGP peer).</summary>
    public IReadOnlyList<PeerStatus> Sessions => _speaker?.Status ?? [];

    /// <summary>Writes the sessions of <paramref name="subnetName"/>'s peers into <paramref name="status"/>.</summary>
    public NodeSubnetStatus Report(string subnetName, NodeSubnetStatus status)
    {
        if (_speaker is null || _plan is null || !_plan.PeersBySubnet.TryGetValue(subnetName, out var peers) || peers.Count == 0)
            return status;
        var sessions = _speaker.Status.Where(s => peers.Contains(s.Address)).ToList();
        status.BgpPeers = sessions.Select(s => new BgpPeerStatus
        {
            Address = s.Address.ToString(),
            Asn = s.Asn,
            State = s.State.ToString(),
            EstablishedSince = s.EstablishedAt?.UtcDateTime,
            PrefixesSent = s.PrefixesSent,
            PrefixesReceived = s.PrefixesReceived,
            LastError = s.LastError is { Length: > 1024 } text ? text[..1024] : s.LastError,
        }).ToList();
        status.BgpSessions = $"{sessions.Count(s => s.State == Trellis.Bgp.Session.SessionState.Established)}/{peers.Count}";
        return status;
    }

    public async ValueTask DisposeAsync()
    {
        if (_speaker is not null) await _speaker.StopAsync(keepRoutes: true);
    }

    private static bool Same(BgpConfiguration a, BgpConfiguration b) =>
        a.Asn == b.Asn && a.RouterId.Equals(b.RouterId) && Equals(a.IPv4NextHop, b.IPv4NextHop) && Equals(a.IPv6NextHop, b.IPv6NextHop) &&
        a.Peers.SequenceEqual(b.Peers) && a.Prefixes.SequenceEqual(b.Prefixes);
}
