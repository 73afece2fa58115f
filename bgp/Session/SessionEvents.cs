using Trellis.Bgp.Messages;

namespace Trellis.Bgp.Session;

/// <summary>Something that happened to a session; <see cref="PeerSession.Handle"/> answers with <see cref="SessionAction"/>s.</summary>
public abstract record SessionEvent;

public sealed record StartRequested : SessionEvent;

/// <summary>
/// Stop the session. With a <see cref="Cease"/> the peer is told why and drops this speaker's
/// routes; without one the connection just closes, which graceful restart peers read as a
/// restart and keep the routes (RFC 4724 §4.2).
/// </summary>
public sealed record StopRequested(NotificationMessage? Cease) : SessionEvent;

/// <summary>Time passed; deadlines up to now fire.</summary>
public sealed record TimerTick : SessionEvent;

public sealed record OutboundConnected(int ConnectionId) : SessionEvent;

public sealed record OutboundFailed(int ConnectionId, string Reason) : SessionEvent;

/// <summary>The peer connected to this speaker's listener; the session accepts or rejects it.</summary>
public sealed record InboundConnection : SessionEvent;

public sealed record ConnectionClosed(int ConnectionId, string Reason) : SessionEvent;

public sealed record MessageReceived(int ConnectionId, BgpMessage Message) : SessionEvent;

public sealed record MessageMalformed(int ConnectionId, MalformedMessageException Error) : SessionEvent;
