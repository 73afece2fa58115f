using Trellis.Bgp.Messages;

namespace Trellis.Bgp.Session;

/// <summary>What the I/O edge must do for a session.</summary>
public abstract record SessionAction;

/// <summary>Open a TCP connection to the peer; report <see cref="OutboundConnected"/> or <see cref="OutboundFailed"/>.</summary>
public sealed record OpenConnection(int ConnectionId) : SessionAction;

/// <summary>Keep the pending inbound connection under this id.</summary>
public sealed record AcceptConnection(int ConnectionId) : SessionAction;

/// <summary>Close the pending inbound connection.</summary>
public sealed record RejectConnection(string Reason) : SessionAction;

public sealed record SendMessage(int ConnectionId, BgpMessage Message) : SessionAction;

/// <summary>Close a connection once what was sent on it has gone.</summary>
public sealed record CloseConnection(int ConnectionId) : SessionAction;

/// <summary>The session is Established: announce every route of its families, then End-of-RIB.</summary>
public sealed record SessionUp(NegotiatedSession Session) : SessionAction;

/// <summary>An Established session ended; <paramref name="PeerKeepsRoutes"/> when it ended silently under graceful restart.</summary>
public sealed record SessionDown(string Reason, bool PeerKeepsRoutes) : SessionAction;

public sealed record RouteRefreshRequested(AfiSafi Family) : SessionAction;

public sealed record UpdateReceived(UpdateMessage Update) : SessionAction;
