using System.Net;
using Trellis.Bgp.Messages;
using Trellis.Bgp.Session;
using Xunit;

namespace Trellis.Bgp.Tests;

/// <summary>The state machine alone: events in with a time, actions out; no socket, no clock.</summary>
public sealed class PeerSessionTests
{
    private static readonly IPAddress Local = IPAddress.Parse("192.168.1.11");
    private static readonly IPAddress Peer = IPAddress.Parse("192.168.1.1");
    private static readonly TimeSpan Hold = TimeSpan.FromSeconds(9);

    private static SessionSettings Settings(uint peerAsn = 65000, bool gracefulRestart = true, bool password = false) =>
        new(64512, Local, Peer, peerAsn, Hold, [AfiSafi.IPv4Unicast, AfiSafi.IPv6Unicast],
            gracefulRestart ? new GracefulRestartSettings(TimeSpan.FromSeconds(120)) : null, password)
        {
            ConnectRetryMinimum = TimeSpan.FromSeconds(1),
            ConnectRetryMaximum = TimeSpan.FromSeconds(8),
            ConnectTimeout = TimeSpan.FromSeconds(5),
            OpenHoldTime = TimeSpan.FromSeconds(240),
        };

    private static OpenMessage PeerOpen(uint asn = 65000, ushort hold = 90, string id = "192.168.1.1", bool gracefulRestart = true) =>
        OpenMessage.Create(asn, hold, IPAddress.Parse(id), gracefulRestart
            ? [new MultiprotocolCapability(AfiSafi.IPv4Unicast), new GracefulRestartCapability(0, 120, [GracefulRestartFamily.Preserved(AfiSafi.IPv4Unicast)])]
            : [new MultiprotocolCapability(AfiSafi.IPv4Unicast)]);

    private static TimeSpan At(double seconds) => TimeSpan.FromSeconds(seconds);

    /// <summary>Start, connect out, exchange OPEN and KEEPALIVE: Established at time 0 on connection 1.</summary>
    private static (PeerSession Session, IReadOnlyList<SessionAction> Last) Established(SessionSettings? settings = null, OpenMessage? open = null)
    {
        var session = new PeerSession(settings ?? Settings());
        session.Handle(new StartRequested(), At(0));
        session.Handle(new TimerTick(), At(0));
        session.Handle(new OutboundConnected(1), At(0));
        session.Handle(new MessageReceived(1, open ?? PeerOpen()), At(0));
        var last = session.Handle(new MessageReceived(1, KeepaliveMessage.Instance), At(0));
        Assert.Equal(SessionState.Established, session.State);
        return (session, last);
    }

    [Fact]
    public void Start_connect_open_keepalive_is_established()
    {
        var session = new PeerSession(Settings());
        Assert.Equal(SessionState.Idle, session.State);
        Assert.Empty(session.Handle(new StartRequested(), At(0)));
        Assert.Equal(At(0), session.NextDeadline);

        Assert.Equal([new OpenConnection(1)], session.Handle(new TimerTick(), At(0)));
        Assert.Equal(SessionState.Connect, session.State);

        var open = Assert.IsType<OpenMessage>(Assert.IsType<SendMessage>(Assert.Single(session.Handle(new OutboundConnected(1), At(0.1)))).Message);
        Assert.Equal(64512u, open.Asn);
        Assert.True(open.GracefulRestart!.RestartState);
        Assert.Equal(SessionState.OpenSent, session.State);

        Assert.Equal([new SendMessage(1, KeepaliveMessage.Instance)], session.Handle(new MessageReceived(1, PeerOpen()), At(0.2)));
        Assert.Equal(SessionState.OpenConfirm, session.State);

        var up = Assert.IsType<SessionUp>(Assert.Single(session.Handle(new MessageReceived(1, KeepaliveMessage.Instance), At(0.3)))).Session;
        Assert.Equal(SessionState.Established, session.State);
        Assert.Equal(Hold, up.HoldTime);
        Assert.Equal([AfiSafi.IPv4Unicast], up.Families);
        Assert.True(up.GracefulRestart);
        Assert.True(up.FourOctetAs);
        Assert.False(up.IsInternal);
    }

    [Fact]
    public void Keepalives_go_every_third_of_the_hold_time_and_silence_expires_the_hold_timer()
    {
        var (session, _) = Established();
        Assert.Equal(At(3), session.NextDeadline);
        Assert.Equal([new SendMessage(1, KeepaliveMessage.Instance)], session.Handle(new TimerTick(), At(3)));
        Assert.Equal([new SendMessage(1, KeepaliveMessage.Instance)], session.Handle(new TimerTick(), At(6)));
        session.Handle(new MessageReceived(1, KeepaliveMessage.Instance), At(6));
        Assert.Empty(session.Handle(new TimerTick(), At(8.9)).OfType<CloseConnection>());

        var actions = session.Handle(new TimerTick(), At(15));
        Assert.Contains(new SendMessage(1, new NotificationMessage(NotificationMessage.HoldTimerExpired, 0)), actions);
        Assert.Contains(new CloseConnection(1), actions);
        Assert.IsType<SessionDown>(actions.Last());
        Assert.Contains("hold timer expired", session.LastError);
        Assert.Equal(SessionState.Active, session.State);
    }

    [Fact]
    public void A_late_tick_fires_no_stale_timer()
    {
        var (session, _) = Established();
        session.Handle(new MessageReceived(1, KeepaliveMessage.Instance), At(8));
        // A tick meant for the old hold deadline (9 s) arrives after a KEEPALIVE moved it to 17 s.
        Assert.DoesNotContain(session.Handle(new TimerTick(), At(9)), a => a is CloseConnection);
        Assert.Equal(SessionState.Established, session.State);
    }

    [Fact]
    public void The_hold_time_is_the_smaller_offer_and_zero_means_no_keepalives()
    {
        Assert.Equal(TimeSpan.FromSeconds(3), Established(open: PeerOpen(hold: 3)).Session.Negotiated!.HoldTime);
        var (session, _) = Established(open: PeerOpen(hold: 0));
        Assert.Equal(TimeSpan.Zero, session.Negotiated!.HoldTime);
        Assert.Null(session.NextDeadline);
    }

    [Fact]
    public void Failures_back_off_doubling_up_to_the_maximum()
    {
        var session = new PeerSession(Settings());
        session.Handle(new StartRequested(), At(0));
        var now = 0.0;
        var delays = new List<double>();
        for (int attempt = 1; attempt <= 6; attempt++)
        {
            var open = Assert.IsType<OpenConnection>(Assert.Single(session.Handle(new TimerTick(), At(now))));
            session.Handle(new OutboundFailed(open.ConnectionId, "Connection refused"), At(now));
            Assert.Equal(SessionState.Active, session.State);
            delays.Add((session.NextDeadline!.Value - At(now)).TotalSeconds);
            now = session.NextDeadline!.Value.TotalSeconds;
        }
        Assert.Equal([1, 2, 4, 8, 8, 8], delays);
        Assert.Equal("connect to 192.168.1.1: Connection refused", session.LastError);
    }

    [Fact]
    public void A_connect_that_never_answers_times_out_and_says_the_password_may_be_wrong()
    {
        var session = new PeerSession(Settings(password: true));
        session.Handle(new StartRequested(), At(0));
        session.Handle(new TimerTick(), At(0));
        var actions = session.Handle(new TimerTick(), At(5));
        Assert.Contains(new CloseConnection(1), actions);
        Assert.Contains("no answer in 5 s", session.LastError);
        Assert.Contains("TCP MD5", session.LastError);
    }

    [Fact]
    public void A_wrong_asn_is_refused_with_bad_peer_as()
    {
        var session = new PeerSession(Settings(peerAsn: 65001));
        session.Handle(new StartRequested(), At(0));
        session.Handle(new TimerTick(), At(0));
        session.Handle(new OutboundConnected(1), At(0));
        var actions = session.Handle(new MessageReceived(1, PeerOpen(asn: 65000)), At(0));

        Assert.Equal([new SendMessage(1, new NotificationMessage(NotificationMessage.OpenMessageError, 2)), new CloseConnection(1)], actions);
        Assert.Contains("says it is AS 65000, but AS 65001 is configured (wrong ASN)", session.LastError);
    }

    [Theory]
    [InlineData(65000, 2, "192.168.1.1", 6)]
    [InlineData(65000, 90, "0.0.0.0", 3)]
    [InlineData(64512, 90, "192.168.1.11", 3)]
    public void Impossible_opens_are_refused(uint asn, ushort hold, string id, byte subcode)
    {
        var session = new PeerSession(Settings(peerAsn: asn));
        session.Handle(new StartRequested(), At(0));
        session.Handle(new TimerTick(), At(0));
        session.Handle(new OutboundConnected(1), At(0));
        var actions = session.Handle(new MessageReceived(1, PeerOpen(asn, hold, id)), At(0));
        Assert.Equal(new SendMessage(1, new NotificationMessage(NotificationMessage.OpenMessageError, subcode)), actions[0]);
    }

    [Fact]
    public void A_peer_notification_ends_the_session_and_is_the_last_error()
    {
        var (session, _) = Established();
        var actions = session.Handle(new MessageReceived(1, NotificationMessage.CeaseWith(CeaseSubcode.AdministrativeShutdown, "maintenance")), At(1));
        Assert.Equal(new CloseConnection(1), actions[0]);
        Assert.False(Assert.IsType<SessionDown>(actions[1]).PeerKeepsRoutes);
        Assert.Equal("192.168.1.1 sent NOTIFICATION Cease / Administrative Shutdown: \"maintenance\"", session.LastError);
    }

    [Fact]
    public void Malformed_input_is_answered_with_its_notification()
    {
        var (session, _) = Established();
        var error = new MalformedMessageException(new NotificationMessage(NotificationMessage.UpdateMessageError, 1), "total path attribute length 256 overruns");
        var actions = session.Handle(new MessageMalformed(1, error), At(1));
        Assert.Equal(new SendMessage(1, error.Notification), actions[0]);
        Assert.Equal(new CloseConnection(1), actions[1]);
        Assert.Contains("malformed message", session.LastError);
    }

    [Theory]
    [InlineData("OpenSent", 1)]
    [InlineData("OpenConfirm", 2)]
    [InlineData("Established", 3)]
    public void An_update_out_of_turn_is_a_state_machine_error(string state, byte subcode)
    {
        var session = new PeerSession(Settings());
        session.Handle(new StartRequested(), At(0));
        session.Handle(new TimerTick(), At(0));
        session.Handle(new OutboundConnected(1), At(0));
        BgpMessage outOfTurn = new UpdateMessage([], [], []);
        if (state != "OpenSent") session.Handle(new MessageReceived(1, PeerOpen()), At(0));
        if (state == "Established")
        {
            session.Handle(new MessageReceived(1, KeepaliveMessage.Instance), At(0));
            outOfTurn = PeerOpen();
        }
        var actions = session.Handle(new MessageReceived(1, outOfTurn), At(0));
        Assert.Equal(new SendMessage(1, new NotificationMessage(NotificationMessage.FiniteStateMachineError, subcode)), actions[0]);
    }

    [Fact]
    public void Updates_and_route_refresh_reach_the_speaker()
    {
        var (session, _) = Established();
        var update = new UpdateMessage([], [], [Addressing.Cidr.Parse("10.0.0.0/8")]);
        Assert.Equal([new UpdateReceived(update)], session.Handle(new MessageReceived(1, update), At(1)));
        Assert.Equal([new RouteRefreshRequested(AfiSafi.IPv6Unicast)], session.Handle(new MessageReceived(1, new RouteRefreshMessage(AfiSafi.IPv6Unicast)), At(1)));
    }

    [Fact]
    public void A_silent_stop_leaves_the_routes_with_a_graceful_restart_peer_and_a_cease_does_not()
    {
        var (silent, _) = Established();
        var actions = silent.Handle(new StopRequested(null), At(1));
        Assert.Equal([new CloseConnection(1), new SessionDown("stopped", PeerKeepsRoutes: true)], actions);
        Assert.Equal(SessionState.Idle, silent.State);
        Assert.Null(silent.NextDeadline);

        var (told, _) = Established();
        var cease = NotificationMessage.CeaseWith(CeaseSubcode.PeerDeconfigured, "peer removed");
        actions = told.Handle(new StopRequested(cease), At(1));
        Assert.Equal(new SendMessage(1, cease), actions[0]);
        Assert.False(Assert.IsType<SessionDown>(actions[2]).PeerKeepsRoutes);

        var (noRestart, _) = Established(Settings(gracefulRestart: false));
        Assert.False(Assert.IsType<SessionDown>(noRestart.Handle(new StopRequested(null), At(1))[1]).PeerKeepsRoutes);
    }

    [Fact]
    public void The_restart_bit_is_set_until_a_session_has_come_up_once()
    {
        var (session, _) = Established();
        session.Handle(new ConnectionClosed(1, "reset"), At(1));
        session.Handle(new TimerTick(), At(2));
        var open = (OpenMessage)((SendMessage)session.Handle(new OutboundConnected(2), At(2)).Single()).Message;
        Assert.False(open.GracefulRestart!.RestartState);
    }

    [Fact]
    public void A_peer_connection_while_stopped_is_rejected_and_while_started_is_accepted_with_an_open()
    {
        var session = new PeerSession(Settings());
        Assert.IsType<RejectConnection>(Assert.Single(session.Handle(new InboundConnection(), At(0))));
        session.Handle(new StartRequested(), At(0));
        var actions = session.Handle(new InboundConnection(), At(0));
        Assert.Equal(new AcceptConnection(1), actions[0]);
        Assert.IsType<OpenMessage>(Assert.IsType<SendMessage>(actions[1]).Message);
    }

    [Theory]
    [InlineData("192.168.1.1", true)]    // the peer's identifier is lower: this speaker's own connection survives
    [InlineData("192.168.1.200", false)] // higher: the peer's connection survives
    public void Collision_keeps_the_connection_of_the_higher_identifier(string peerId, bool outboundSurvives)
    {
        var session = new PeerSession(Settings());
        session.Handle(new StartRequested(), At(0));
        session.Handle(new TimerTick(), At(0));                          // outbound connection 1
        session.Handle(new OutboundConnected(1), At(0));
        session.Handle(new InboundConnection(), At(0));                  // inbound connection 2
        session.Handle(new MessageReceived(1, PeerOpen(id: peerId)), At(0)); // 1 reaches OpenConfirm
        var actions = session.Handle(new MessageReceived(2, PeerOpen(id: peerId)), At(0));

        var loser = outboundSurvives ? 2 : 1;
        Assert.Contains(new SendMessage(loser, new NotificationMessage(NotificationMessage.Cease, (byte)CeaseSubcode.ConnectionCollisionResolution)), actions);
        Assert.Contains(new CloseConnection(loser), actions);
        var winner = 3 - loser;
        var up = session.Handle(new MessageReceived(winner, KeepaliveMessage.Instance), At(0));
        Assert.Equal(winner, Assert.IsType<SessionUp>(up.Last()).Session.ConnectionId);
        Assert.Null(session.LastError);
    }

    [Fact]
    public void A_new_open_while_established_is_a_graceful_restart_of_the_peer_or_else_a_collision()
    {
        var (restarted, _) = Established();
        restarted.Handle(new InboundConnection(), At(1));
        var actions = restarted.Handle(new MessageReceived(2, PeerOpen()), At(1));
        Assert.Contains(new CloseConnection(1), actions);
        Assert.Contains(new SendMessage(2, KeepaliveMessage.Instance), actions);

        var (plain, _) = Established(Settings(gracefulRestart: false), PeerOpen(gracefulRestart: false));
        plain.Handle(new InboundConnection(), At(1));
        actions = plain.Handle(new MessageReceived(2, PeerOpen(gracefulRestart: false)), At(1));
        Assert.Contains(new CloseConnection(2), actions);
        Assert.Equal(SessionState.Established, plain.State);
    }

    [Fact]
    public void Events_for_connections_the_session_forgot_change_nothing()
    {
        var (session, _) = Established();
        Assert.Empty(session.Handle(new ConnectionClosed(7, "late"), At(1)));
        Assert.Empty(session.Handle(new MessageReceived(7, KeepaliveMessage.Instance), At(1)));
        Assert.Empty(session.Handle(new OutboundConnected(7), At(1)));
        Assert.Equal(SessionState.Established, session.State);
    }
}
