using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Trellis.Addressing;
using Trellis.Bgp.Messages;
using Trellis.Bgp.Routing;
using Trellis.Bgp.Session;

namespace Trellis.Bgp.Speaker;

/// <summary>
/// One peer inside the speaker: its pure <see cref="PeerSession"/>, the sockets that session's
/// actions refer to, and the routes each way. Runs only on the speaker's loop.
/// </summary>
internal sealed class PeerRunner
{
    private readonly BgpSpeaker _speaker;
    private readonly Dictionary<int, BgpConnection> _connections = [];
    private readonly Dictionary<int, CancellationTokenSource> _connecting = [];
    private readonly ILogger _logger;
    private readonly List<Task> _closing = [];
    private AdjRibOut? _out;
    private AdjRibIn _in = new();
    private NegotiatedSession? _negotiated;
    private DateTimeOffset? _establishedAt;
    private SessionState _loggedState;

    public PeerRunner(BgpSpeaker speaker, BgpPeer peer, uint localAsn, IPAddress routerId, BgpSpeakerOptions options)
    {
        _speaker = speaker;
        Peer = peer;
        LocalAsn = localAsn;
        _logger = options.Logger;
        var families = new List<AfiSafi> { AfiSafi.IPv4Unicast, AfiSafi.IPv6Unicast };
        Session = new PeerSession(new SessionSettings(localAsn, routerId, peer.Address, peer.Asn, peer.EffectiveHoldTime, families,
            peer.GracefulRestartTime is { } restart ? new GracefulRestartSettings(restart) : null, peer.Password is not null)
        {
            ConnectRetryMinimum = options.ConnectRetryMinimum,
            ConnectRetryMaximum = options.ConnectRetryMaximum,
            ConnectTimeout = options.ConnectTimeout,
            OpenHoldTime = options.OpenHoldTime,
        });
    }

    public BgpPeer Peer { get; }

    public uint LocalAsn { get; }

    public PeerSession Session { get; }

    /// <summary>Connections sending their last messages before they close.</summary>
    public IEnumerable<Task> Closing => _closing.Where(t => !t.IsCompleted);

    public PeerStatus Status => new(Peer.Address, Peer.Asn, Session.State, _establishedAt, _out?.Count ?? 0, _in.Count, Session.LastError);

    public void Dispatch(SessionEvent sessionEvent, TimeSpan now, Socket? pendingInbound = null)
    {
        foreach (var action in Session.Handle(sessionEvent, now))
            Execute(action, ref pendingInbound);
        pendingInbound?.Dispose();
        if (Session.State != _loggedState)
        {
            _logger.LogInformation("BGP peer {Peer} AS {Asn}: {From} -> {To}{Error}", Peer.Address, Peer.Asn, _loggedState, Session.State,
                Session.LastError is { } error && Session.State < SessionState.OpenSent ? $" ({error})" : "");
            _loggedState = Session.State;
        }
    }

    /// <summary>A whole message arrived on a connection; decode it with that connection's terms.</summary>
    public void Receive(int connectionId, byte[] message, TimeSpan now)
    {
        if (!_connections.TryGetValue(connectionId, out var connection)) return;
        SessionEvent received;
        try
        {
            received = new MessageReceived(connectionId, BgpCodec.Decode(message, connection.Codec));
        }
        catch (MalformedMessageException error)
        {
            received = new MessageMalformed(connectionId, error);
        }
        Dispatch(received, now);
    }

    /// <summary>An outgoing connection is up; hand its socket to the session.</summary>
    public void Connected(int connectionId, Socket socket, TimeSpan now)
    {
        _connecting.Remove(connectionId, out var cancel);
        cancel?.Dispose();
        if (Session.State == SessionState.Idle)
        {
            socket.Dispose();
            return;
        }
        Adopt(connectionId, socket);
        Dispatch(new OutboundConnected(connectionId), now);
    }

    /// <summary>The wanted routes changed: bring an Established peer up to date.</summary>
    public void Announce(IReadOnlyDictionary<Cidr, IPAddress> routes)
    {
        if (_out is null || _negotiated is null) return;
        SendAll(_out.Sync(routes, endOfRib: false));
    }

    public void Abort()
    {
        foreach (var cancel in _connecting.Values) cancel.Cancel();
        _connecting.Clear();
        foreach (var connection in _connections.Values) connection.Abort();
        _connections.Clear();
    }

    private void Execute(SessionAction action, ref Socket? pendingInbound)
    {
        switch (action)
        {
            case OpenConnection open:
                StartConnecting(open.ConnectionId);
                break;
            case AcceptConnection accept when pendingInbound is not null:
                Adopt(accept.ConnectionId, pendingInbound);
                pendingInbound = null;
                break;
            case RejectConnection reject:
                _logger.LogDebug("BGP peer {Peer}: refused a connection: {Reason}", Peer.Address, reject.Reason);
                break;
            case SendMessage send when _connections.TryGetValue(send.ConnectionId, out var connection):
                connection.Send(BgpCodec.Encode(send.Message, connection.Codec));
                if (send.Message is NotificationMessage notification)
                    _logger.LogWarning("BGP peer {Peer}: sent NOTIFICATION {Notification}", Peer.Address, notification.Describe());
                break;
            case CloseConnection close:
                if (_connections.Remove(close.ConnectionId, out var closing)) _closing.Add(closing.Close());
                if (_connecting.Remove(close.ConnectionId, out var cancel)) cancel.Cancel();
                break;
            case SessionUp up:
                SessionUp(up.Session);
                break;
            case SessionDown down:
                _logger.LogWarning("BGP peer {Peer}: session down: {Reason}{Kept}", Peer.Address, down.Reason,
                    down.PeerKeepsRoutes ? " (the peer keeps the routes through graceful restart)" : "");
                _out = null;
                _in = new AdjRibIn();
                _negotiated = null;
                _establishedAt = null;
                break;
            case RouteRefreshRequested refresh when _out is not null:
                SendAll(_out.Resend(refresh.Family));
                break;
            case UpdateReceived update:
                _in.Apply(update.Update);
                if (update.Update.TreatAsWithdraw is { } malformed)
                    _logger.LogWarning("BGP peer {Peer}: routes treated as withdrawn: {Error}", Peer.Address, malformed.Message);
                break;
        }
    }

    private void SessionUp(NegotiatedSession session)
    {
        _negotiated = session;
        _establishedAt = _speaker.WallClock;
        _out = new AdjRibOut(session, LocalAsn);
        _in = new AdjRibIn();
        if (_connections.TryGetValue(session.ConnectionId, out var connection)) connection.Codec = session.Codec;
        _logger.LogInformation("BGP peer {Peer} AS {Asn} Established: hold {Hold} s, families {Families}, graceful restart {GracefulRestart}",
            Peer.Address, session.PeerAsn, session.HoldTime.TotalSeconds, string.Join(", ", session.Families), session.GracefulRestart);
        SendAll(_out.Sync(_speaker.WantedRoutes, endOfRib: true));
    }

    private void SendAll(List<UpdateMessage> updates)
    {
        if (_negotiated is null || !_connections.TryGetValue(_negotiated.ConnectionId, out var connection)) return;
        foreach (var update in updates) connection.Send(BgpCodec.Encode(update, connection.Codec));
    }

    private void Adopt(int connectionId, Socket socket)
    {
        var connection = new BgpConnection(connectionId, socket);
        _connections[connectionId] = connection;
        connection.Start(
            message => _speaker.Post(new SpeakerEvent.Frame(this, connectionId, message)),
            error => _speaker.Post(new SpeakerEvent.Session(this, new MessageMalformed(connectionId, error))),
            reason => _speaker.Post(new SpeakerEvent.Session(this, new ConnectionClosed(connectionId, reason))));
    }

    private void StartConnecting(int connectionId)
    {
        var cancel = new CancellationTokenSource();
        _connecting[connectionId] = cancel;
        var endpoint = new IPEndPoint(Peer.Address, Peer.Port);
        _ = Task.Run(async () =>
        {
            Socket? socket = null;
            try
            {
                socket = _speaker.Options.SocketFactory(Peer.Address.AddressFamily);
                socket.NoDelay = true;
                if (Peer.Password is not null) TcpMd5.SetKey(socket, Peer.Address, Peer.Password);
                await socket.ConnectAsync(endpoint, cancel.Token);
                _speaker.Post(new SpeakerEvent.Outbound(this, connectionId, socket));
            }
            catch (Exception error)
            {
                socket?.Dispose();
                if (!cancel.IsCancellationRequested)
                    _speaker.Post(new SpeakerEvent.Session(this, new OutboundFailed(connectionId,
                        error is SocketException socketError ? socketError.Message : error.Message)));
            }
        });
    }
}
