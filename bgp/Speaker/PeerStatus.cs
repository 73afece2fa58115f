using System.Net;
using Trellis.Bgp.Session;

namespace Trellis.Bgp.Speaker;

/// <summary>One peer as an operator wants to see it: state, since when, routes each way, and the last thing that went wrong.</summary>
public sealed record PeerStatus(
    IPAddress Address,
    uint Asn,
    SessionState State,
    DateTimeOffset? EstablishedAt,
    int PrefixesSent,
    int PrefixesReceived,
    string? LastError)
{
    public TimeSpan? Uptime(DateTimeOffset now) => EstablishedAt is { } at ? now - at : null;
}
