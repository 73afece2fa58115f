using System.Net;
using Trellis.Bgp.Messages;

namespace Trellis.Bgp.Session;

/// <summary>What both OPENs agreed on, for the session's lifetime.</summary>
/// <param name="Families">The families both sides carry: only these are announced.</param>
/// <param name="GracefulRestart">Both sides advertised graceful restart: the peer keeps this speaker's routes across a restart.</param>
public sealed record NegotiatedSession(
    int ConnectionId,
    uint PeerAsn,
    IPAddress PeerRouterId,
    TimeSpan HoldTime,
    bool FourOctetAs,
    IReadOnlyList<AfiSafi> Families,
    bool IsInternal,
    bool GracefulRestart,
    bool RouteRefresh)
{
    public CodecOptions Codec => new(FourOctetAs);

    public TimeSpan KeepaliveInterval => HoldTime / 3;
}
