using System.Buffers.Binary;
using System.Net;
using Trellis.Bgp.Messages;

namespace Trellis.Bgp.Session;

/// <summary>
/// The BGP finite state machine of RFC 4271 §8 for one configured peer, with no I/O and no
/// clock: events come in with the current monotonic time, actions go out, and
/// <see cref="NextDeadline"/> says when to deliver the next <see cref="TimerTick"/>. It holds up
/// to two connections (one this speaker opened, one the peer opened) until collision
/// resolution (§6.8) keeps one; timers are deadlines, so a late tick can never fire a stale timer.
/// </summary>
public sealed class PeerSession(SessionSettings settings)
{
    private enum Phase { Connecting, OpenSent, OpenConfirm, Established }

    private sealed class Connection(int id, bool outbound)
    {
        public int Id { get; } = id;
        public bool Outbound { get; } = outbound;
        public Phase Phase { get; set; }
        public OpenMessage? PeerOpen { get; set; }
        public NegotiatedSession? Negotiated { get; set; }
        public TimeSpan? ConnectDeadline { get; set; }
        public TimeSpan? HoldDeadline { get; set; }
        public TimeSpan? KeepaliveDue { get; set; }
        public TimeSpan HoldTime { get; set; }
    }

    private readonly List<Connection> _connections = [];
    private int _nextConnectionId;
    private int _failures;
    private bool _started;
    private TimeSpan? _retryAt;
    private bool _everEstablished;

    public SessionSettings Settings { get; } = settings;

    public SessionState State
    {
        get
        {
            if (_connections.Count == 0) return _started ? SessionState.Active : SessionState.Idle;
            var furthest = _connections.Max(c => c.Phase);
            return furthest switch
            {
                Phase.Connecting => SessionState.Connect,
                Phase.OpenSent => SessionState.OpenSent,
                Phase.OpenConfirm => SessionState.OpenConfirm,
                _ => SessionState.Established,
            };
        }
    }

    /// <summary>The Established session's terms, or null.</summary>
    public NegotiatedSession? Negotiated => _connections.FirstOrDefault(c => c.Phase == Phase.Established)?.Negotiated;

    /// <summary>Why the last connection or session failed, in words for the status; cleared when one is Established.</summary>
    public string? LastError { get; private set; }

    /// <summary>When the next <see cref="TimerTick"/> is due, or null when nothing waits on time.</summary>
    public TimeSpan? NextDeadline
    {
        get
        {
            var deadlines = _connections.SelectMany(c => new[] { c.ConnectDeadline, c.HoldDeadline, c.KeepaliveDue });
            if (_started && CanOpenOutbound) deadlines = deadlines.Append(_retryAt);
            return deadlines.Where(d => d.HasValue).Min();
        }
    }

    private bool CanOpenOutbound =>
        !_connections.Any(c => c.Outbound || c.Phase >= Phase.OpenConfirm);

    public IReadOnlyList<SessionAction> Handle(SessionEvent sessionEvent, TimeSpan now)
    {
        var actions = new List<SessionAction>();
        switch (sessionEvent)
        {
            case StartRequested when !_started:
                _started = true;
                _failures = 0;
                _retryAt = now;
                break;
            case StartRequested:
                break;
            case StopRequested stop:
                Stop(stop.Cease, actions);
                break;
            case TimerTick:
                Tick(now, actions);
                break;
            case OutboundConnected connected when Find(connected.ConnectionId) is { Phase: Phase.Connecting } connection:
                connection.ConnectDeadline = null;
                SendOpen(connection, now, actions);
                break;
            case OutboundFailed failed when Find(failed.ConnectionId) is { } connection:
                Fail(connection, $"connect to {Settings.PeerAddress}: {failed.Reason}", null, now, actions);
                break;
            case InboundConnection:
                Accept(now, actions);
                break;
            case ConnectionClosed closed when Find(closed.ConnectionId) is { } connection:
                Fail(connection, $"connection closed by {Settings.PeerAddress}: {closed.Reason}", null, now, actions);
                break;
            case MessageMalformed malformed when Find(malformed.ConnectionId) is { } connection:
                Fail(connection, $"malformed message from {Settings.PeerAddress}: {malformed.Error.Message}",
                    malformed.Error.Notification, now, actions);
                break;
            case MessageReceived received when Find(received.ConnectionId) is { } connection:
                Receive(connection, received.Message, now, actions);
                break;
        }
        return actions;
    }

    private void Stop(NotificationMessage? cease, List<SessionAction> actions)
    {
        _started = false;
        _retryAt = null;
        foreach (var connection in _connections.ToList())
        {
            if (cease is not null && connection.Phase >= Phase.OpenSent) actions.Add(new SendMessage(connection.Id, cease));
            Drop(connection, cease is null ? "stopped" : $"stopped: {cease.Describe()}", peerKeepsRoutes: cease is null, actions);
        }
    }

    private void Tick(TimeSpan now, List<SessionAction> actions)
    {
        foreach (var connection in _connections.ToList())
        {
            if (connection.ConnectDeadline <= now)
            {
                var hint = Settings.PasswordSet ? " (a TCP MD5 password is set: a password mismatch looks like this)" : "";
                Fail(connection, $"connect to {Settings.PeerAddress}: no answer in {Settings.ConnectTimeout.TotalSeconds:0.#} s{hint}", null, now, actions);
                continue;
            }
            if (connection.HoldDeadline <= now)
            {
                var waited = connection.Phase == Phase.OpenSent ? Settings.OpenHoldTime : connection.HoldTime;
                Fail(connection, $"hold timer expired: nothing from {Settings.PeerAddress} in {waited.TotalSeconds:0.#} s",
                    new NotificationMessage(NotificationMessage.HoldTimerExpired, 0), now, actions);
                continue;
            }
            if (connection.KeepaliveDue <= now)
            {
                actions.Add(new SendMessage(connection.Id, KeepaliveMessage.Instance));
                connection.KeepaliveDue = now + connection.HoldTime / 3;
            }
        }
        if (_started && CanOpenOutbound && _retryAt <= now)
        {
            _retryAt = null;
            var connection = new Connection(++_nextConnectionId, outbound: true)
            {
                Phase = Phase.Connecting,
                ConnectDeadline = now + Settings.ConnectTimeout,
            };
            _connections.Add(connection);
            actions.Add(new OpenConnection(connection.Id));
        }
    }

    private void Accept(TimeSpan now, List<SessionAction> actions)
    {
        if (!_started)
        {
            actions.Add(new RejectConnection($"the session with {Settings.PeerAddress} is stopped"));
            return;
        }
        // A half-open inbound connection would hold its slot for minutes; the newest one wins.
        foreach (var stale in _connections.Where(c => !c.Outbound && c.Phase != Phase.Established).ToList())
            Drop(stale, "replaced by a newer connection from the peer", peerKeepsRoutes: false, actions);
        var connection = new Connection(++_nextConnectionId, outbound: false);
        _connections.Add(connection);
        actions.Add(new AcceptConnection(connection.Id));
        SendOpen(connection, now, actions);
    }

    private void SendOpen(Connection connection, TimeSpan now, List<SessionAction> actions)
    {
        connection.Phase = Phase.OpenSent;
        connection.HoldDeadline = now + Settings.OpenHoldTime;
        actions.Add(new SendMessage(connection.Id, Settings.CreateOpen(restarting: !_everEstablished)));
    }

    private void Receive(Connection connection, BgpMessage message, TimeSpan now, List<SessionAction> actions)
    {
        switch (message, connection.Phase)
        {
            case (NotificationMessage notification, _):
                Fail(connection, $"{Settings.PeerAddress} sent NOTIFICATION {notification.Describe()}", null, now, actions,
                    collisionLoser: notification is { Code: NotificationMessage.Cease, Subcode: (byte)CeaseSubcode.ConnectionCollisionResolution });
                break;
            case (OpenMessage open, Phase.OpenSent):
                ReceiveOpen(connection, open, now, actions);
                break;
            case (KeepaliveMessage, Phase.OpenConfirm):
                Establish(connection, now, actions);
                break;
            case (KeepaliveMessage, Phase.Established):
                RestartHold(connection, now);
                break;
            case (UpdateMessage update, Phase.Established):
                RestartHold(connection, now);
                actions.Add(new UpdateReceived(update));
                break;
            case (RouteRefreshMessage refresh, Phase.Established):
                RestartHold(connection, now);
                if (refresh.Subtype == 0) actions.Add(new RouteRefreshRequested(refresh.Family));
                break;
            default:
                byte subcode = connection.Phase switch { Phase.OpenSent => 1, Phase.OpenConfirm => 2, _ => 3 };
                Fail(connection, $"{Settings.PeerAddress} sent {message.Type} in {connection.Phase}",
                    new NotificationMessage(NotificationMessage.FiniteStateMachineError, subcode), now, actions);
                break;
        }
    }

    private void ReceiveOpen(Connection connection, OpenMessage open, TimeSpan now, List<SessionAction> actions)
    {
        if (Refusal(open) is { } refusal)
        {
            Fail(connection, refusal.Reason, refusal.Notification, now, actions);
            return;
        }

        if (_connections.FirstOrDefault(c => c != connection && c.Phase >= Phase.OpenConfirm) is { } other)
        {
            var negotiated = other.Negotiated;
            if (other.Phase == Phase.Established && !(negotiated is { GracefulRestart: true } && !connection.Outbound))
            {
                Collide(connection, now, actions);
                return;
            }
            if (other.Phase == Phase.Established)
            {
                // RFC 4724 §4.2: a new OPEN from a graceful restart peer means it restarted; the old session is gone.
                Drop(other, $"{Settings.PeerAddress} restarted (graceful restart)", peerKeepsRoutes: false, actions);
            }
            else
            {
                // RFC 4271 §6.8: the connection opened by the speaker with the higher BGP Identifier survives.
                bool localWins = ToUInt32(Settings.RouterId) > ToUInt32(open.RouterId);
                var loser = (other.Outbound == localWins) ? connection : other;
                Collide(loser, now, actions);
                if (loser == connection) return;
            }
        }

        var holdSeconds = Math.Min((ushort)Settings.HoldTime.TotalSeconds, open.HoldTimeSeconds);
        var families = Settings.Families.Intersect(open.Families).ToList();
        var ours = Settings.CreateOpen(restarting: !_everEstablished);
        connection.PeerOpen = open;
        connection.HoldTime = TimeSpan.FromSeconds(holdSeconds);
        connection.Negotiated = new NegotiatedSession(
            connection.Id, open.Asn, open.RouterId, connection.HoldTime,
            FourOctetAs: open.SupportsFourOctetAs && ours.SupportsFourOctetAs,
            families, Settings.IsInternal,
            GracefulRestart: Settings.GracefulRestart is not null && open.GracefulRestart is not null,
            RouteRefresh: open.Find<RouteRefreshCapability>() is not null);
        connection.Phase = Phase.OpenConfirm;
        actions.Add(new SendMessage(connection.Id, KeepaliveMessage.Instance));
        RestartHold(connection, now);
        connection.KeepaliveDue = holdSeconds == 0 ? null : now + connection.HoldTime / 3;
    }

    private (string Reason, NotificationMessage Notification)? Refusal(OpenMessage open)
    {
        if (open.Asn != Settings.PeerAsn)
            return ($"{Settings.PeerAddress} says it is AS {open.Asn}, but AS {Settings.PeerAsn} is configured (wrong ASN)",
                new NotificationMessage(NotificationMessage.OpenMessageError, 2));
        if (open.HoldTimeSeconds is 1 or 2)
            return ($"{Settings.PeerAddress} offers hold time {open.HoldTimeSeconds} s; it must be 0 or at least 3",
                new NotificationMessage(NotificationMessage.OpenMessageError, 6));
        var id = ToUInt32(open.RouterId);
        if (id == 0 || (Settings.IsInternal && id == ToUInt32(Settings.RouterId)))
            return ($"{Settings.PeerAddress} has BGP identifier {open.RouterId}, which is {(id == 0 ? "zero" : "this speaker's own")}",
                new NotificationMessage(NotificationMessage.OpenMessageError, 3));
        return null;
    }

    private void Establish(Connection connection, TimeSpan now, List<SessionAction> actions)
    {
        connection.Phase = Phase.Established;
        RestartHold(connection, now);
        _failures = 0;
        _everEstablished = true;
        LastError = null;
        foreach (var other in _connections.Where(c => c != connection).ToList())
        {
            if (other.Phase >= Phase.OpenSent)
                actions.Add(new SendMessage(other.Id, NotificationMessage.CeaseWith(CeaseSubcode.ConnectionCollisionResolution, "")));
            Drop(other, "collision: another connection is Established", peerKeepsRoutes: false, actions);
        }
        actions.Add(new SessionUp(connection.Negotiated!));
    }

    private void Collide(Connection loser, TimeSpan now, List<SessionAction> actions)
    {
        actions.Add(new SendMessage(loser.Id, new NotificationMessage(NotificationMessage.Cease, (byte)CeaseSubcode.ConnectionCollisionResolution)));
        Drop(loser, "connection collision resolved in favour of the other connection", peerKeepsRoutes: false, actions);
    }

    private static void RestartHold(Connection connection, TimeSpan now) =>
        connection.HoldDeadline = connection.HoldTime == TimeSpan.Zero ? null : now + connection.HoldTime;

    /// <summary>A connection failed: tell the peer why when there is something to say, close, and back off before retrying.</summary>
    private void Fail(Connection connection, string reason, NotificationMessage? notification, TimeSpan now, List<SessionAction> actions,
        bool collisionLoser = false)
    {
        if (notification is not null && connection.Phase >= Phase.OpenSent) actions.Add(new SendMessage(connection.Id, notification));
        Drop(connection, reason, peerKeepsRoutes: false, actions);
        // Losing a collision is no failure while the other connection carries on.
        if (collisionLoser && _connections.Count > 0) return;
        LastError = notification is null || reason.Contains(notification.Describe()) ? reason : $"{reason}; sent {notification.Describe()}";
        if (_connections.Count == 0 && _started)
        {
            _failures++;
            var delay = Settings.ConnectRetryMinimum * Math.Pow(2, Math.Min(_failures - 1, 16));
            _retryAt = now + (delay > Settings.ConnectRetryMaximum ? Settings.ConnectRetryMaximum : delay);
        }
    }

    private void Drop(Connection connection, string reason, bool peerKeepsRoutes, List<SessionAction> actions)
    {
        _connections.Remove(connection);
        actions.Add(new CloseConnection(connection.Id));
        if (connection.Phase == Phase.Established)
            actions.Add(new SessionDown(reason, peerKeepsRoutes && connection.Negotiated!.GracefulRestart));
    }

    private Connection? Find(int id) => _connections.FirstOrDefault(c => c.Id == id);

    private static uint ToUInt32(IPAddress address) => BinaryPrimitives.ReadUInt32BigEndian(address.GetAddressBytes());
}
