using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Trellis.Addressing;
using Trellis.Bgp.Messages;
using Trellis.Bgp.Session;

namespace Trellis.Bgp.Speaker;

/// <summary>
/// An announce-only BGP speaker: give it a <see cref="BgpConfiguration"/> (peers and prefixes)
/// and it keeps a session with each peer, announces the prefixes, withdraws the ones that leave,
/// and reports each peer's <see cref="Status"/>. Everything happens on one loop: sockets and
/// callers only post events to it, so session state is never touched from two threads.
/// </summary>
public sealed class BgpSpeaker : IAsyncDisposable
{
    private readonly Channel<SpeakerEvent> _events = Channel.CreateUnbounded<SpeakerEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<IPAddress, PeerRunner> _peers = [];
    private readonly long _started;
    private readonly ILogger _logger;
    private readonly Task _loop;
    private Socket? _listener;
    private BgpConfiguration? _configuration;
    private IReadOnlyList<PeerStatus> _status = [];

    private BgpSpeaker(BgpSpeakerOptions options)
    {
        Options = options;
        _logger = options.Logger;
        _started = options.Time.GetTimestamp();
        if (options.ListenPort != 0) Listen();
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Starts the speaker with no peers; <see cref="Apply"/> gives it some.</summary>
    public static BgpSpeaker Start(BgpSpeakerOptions options) => new(options);

    /// <summary>Why the speaker could not listen for peers (it still connects out), or null.</summary>
    public string? ListenError { get; private set; }

    /// <summary>Each configured peer, ordered by address; replaced whole whenever anything in it changes.</summary>
    public IReadOnlyList<PeerStatus> Status => Volatile.Read(ref _status);

    /// <summary>Raised on the speaker's loop after <see cref="Status"/> changed; handlers must return quickly.</summary>
    public event Action? StatusChanged;

    internal BgpSpeakerOptions Options { get; }

    internal IReadOnlyDictionary<Cidr, IPAddress> WantedRoutes { get; private set; } = new Dictionary<Cidr, IPAddress>();

    internal DateTimeOffset WallClock => Options.Time.GetUtcNow();

    private TimeSpan Now => Options.Time.GetElapsedTime(_started);

    /// <summary>Makes the speaker match <paramref name="configuration"/>; refuses one that names an impossible field.</summary>
    public void Apply(BgpConfiguration configuration)
    {
        var errors = configuration.Validate();
        if (errors.Count > 0) throw new ArgumentException($"BGP configuration refused: {string.Join("; ", errors)}", nameof(configuration));
        Post(new SpeakerEvent.Configure(configuration));
    }

    /// <summary>
    /// Ends every session. With <paramref name="keepRoutes"/> the connections just close, so peers
    /// with graceful restart keep this speaker's routes until it comes back (an agent restart);
    /// without, each peer is told Administrative Shutdown and drops them.
    /// </summary>
    public async Task StopAsync(bool keepRoutes)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (_events.Writer.TryWrite(new SpeakerEvent.Stop(keepRoutes, done))) await done.Task;
        await _loop;
    }

    public ValueTask DisposeAsync() => new(StopAsync(keepRoutes: true));

    internal void Post(SpeakerEvent speakerEvent)
    {
        // After stop nothing reads events: a socket that arrives then is closed here.
        if (!_events.Writer.TryWrite(speakerEvent)) SocketOf(speakerEvent)?.Dispose();
    }

    private static Socket? SocketOf(SpeakerEvent speakerEvent) => speakerEvent switch
    {
        SpeakerEvent.Outbound outbound => outbound.Socket,
        SpeakerEvent.Inbound inbound => inbound.Socket,
        _ => null,
    };

    private async Task RunAsync()
    {
        while (true)
        {
            foreach (var runner in _peers.Values.ToList())
                if (runner.Session.NextDeadline <= Now) runner.Dispatch(new TimerTick(), Now);
            PublishStatus();

            var next = _peers.Values.Select(r => r.Session.NextDeadline).Where(d => d.HasValue).Min();
            using var wake = new CancellationTokenSource();
            if (next is { } deadline) wake.CancelAfter(deadline - Now > TimeSpan.Zero ? deadline - Now : TimeSpan.Zero);
            try
            {
                await _events.Reader.WaitToReadAsync(wake.Token);
            }
            catch (OperationCanceledException)
            {
                continue;
            }
            while (_events.Reader.TryRead(out var speakerEvent))
            {
                try
                {
                    if (speakerEvent is SpeakerEvent.Stop stop)
                    {
                        await StopAllAsync(stop.KeepRoutes);
                        stop.Done.TrySetResult();
                        return;
                    }
                    Handle(speakerEvent);
                }
                catch (Exception error)
                {
                    // One bad event must not end every session; say what it was.
                    _logger.LogError(error, "BGP speaker: handling {Event} failed", speakerEvent.GetType().Name);
                }
            }
        }
    }

    private void Handle(SpeakerEvent speakerEvent)
    {
        switch (speakerEvent)
        {
            case SpeakerEvent.Configure configure:
                Configure(configure.Configuration);
                break;
            case SpeakerEvent.Session session when IsCurrent(session.Runner):
                session.Runner.Dispatch(session.Event, Now);
                break;
            case SpeakerEvent.Frame frame when IsCurrent(frame.Runner):
                frame.Runner.Receive(frame.ConnectionId, frame.Message, Now);
                break;
            case SpeakerEvent.Outbound outbound when IsCurrent(outbound.Runner):
                outbound.Runner.Connected(outbound.ConnectionId, outbound.Socket, Now);
                break;
            case SpeakerEvent.Outbound stale:
                stale.Socket.Dispose();
                break;
            case SpeakerEvent.Inbound inbound:
                var remote = (inbound.Socket.RemoteEndPoint as IPEndPoint)?.Address;
                if (remote is not null && _peers.TryGetValue(BgpSpeakerOptions.Unmapped(remote), out var runner))
                    runner.Dispatch(new InboundConnection(), Now, inbound.Socket);
                else
                {
                    _logger.LogDebug("BGP speaker: refused a connection from {Remote}, which is not a configured peer", remote);
                    inbound.Socket.Dispose();
                }
                break;
        }
    }

    private bool IsCurrent(PeerRunner runner) => _peers.TryGetValue(runner.Peer.Address, out var current) && current == runner;

    private void Configure(BgpConfiguration configuration)
    {
        var previous = _configuration;
        _configuration = configuration;
        WantedRoutes = configuration.Routes();
        bool identityChanged = previous is not null && (previous.Asn != configuration.Asn || !previous.RouterId.Equals(configuration.RouterId));
        var wanted = configuration.Peers.ToDictionary(p => p.Address);

        foreach (var (address, runner) in _peers.ToList())
        {
            if (!wanted.TryGetValue(address, out var peer))
            {
                runner.Dispatch(new StopRequested(NotificationMessage.CeaseWith(CeaseSubcode.PeerDeconfigured, "peer removed from the configuration")), Now);
                _peers.Remove(address);
                SetListenerKey(address, null);
            }
            else if (identityChanged || peer != runner.Peer)
            {
                runner.Dispatch(new StopRequested(NotificationMessage.CeaseWith(CeaseSubcode.OtherConfigurationChange, "configuration changed")), Now);
                _peers.Remove(address);
            }
        }
        foreach (var peer in configuration.Peers.Where(p => !_peers.ContainsKey(p.Address)))
        {
            SetListenerKey(peer.Address, peer.Password);
            var runner = new PeerRunner(this, peer, configuration.Asn, configuration.RouterId, Options);
            _peers[peer.Address] = runner;
            runner.Dispatch(new StartRequested(), Now);
        }
        foreach (var runner in _peers.Values) runner.Announce(WantedRoutes);
    }

    private async Task StopAllAsync(bool keepRoutes)
    {
        _events.Writer.TryComplete();
        _listener?.Dispose();
        var cease = keepRoutes ? null : NotificationMessage.CeaseWith(CeaseSubcode.AdministrativeShutdown, "speaker stopped");
        foreach (var runner in _peers.Values) runner.Dispatch(new StopRequested(cease), Now);
        var closing = _peers.Values.SelectMany(r => r.Closing).ToList();
        await Task.WhenAny(Task.WhenAll(closing), Task.Delay(TimeSpan.FromSeconds(2)));
        foreach (var runner in _peers.Values) runner.Abort();
        PublishStatus();
        // Sockets still queued (a connect that just finished, a peer's connection) are closed, not leaked.
        while (_events.Reader.TryRead(out var leftover)) SocketOf(leftover)?.Dispose();
    }

    private void PublishStatus()
    {
        var status = _peers.Values.Select(r => r.Status).OrderBy(s => s.Address.AddressFamily).ThenBy(s => s.Address.ToString()).ToList();
        if (status.SequenceEqual(_status)) return;
        Volatile.Write(ref _status, status);
        StatusChanged?.Invoke();
    }

    private void Listen()
    {
        try
        {
            Socket listener;
            try
            {
                listener = Options.SocketFactory(AddressFamily.InterNetworkV6);
                listener.DualMode = true;
                listener.Bind(new IPEndPoint(IPAddress.IPv6Any, Options.ListenPort));
            }
            catch (SocketException error) when (error.SocketErrorCode is SocketError.AddressFamilyNotSupported or SocketError.AddressNotAvailable)
            {
                listener = Options.SocketFactory(AddressFamily.InterNetwork);
                listener.Bind(new IPEndPoint(IPAddress.Any, Options.ListenPort));
            }
            listener.Listen(16);
            _listener = listener;
            _ = Task.Run(() => AcceptAsync(listener));
        }
        catch (SocketException error)
        {
            ListenError = $"listen on port {Options.ListenPort}: {error.Message}";
            _logger.LogWarning("BGP speaker: {Error}; connecting out only", ListenError);
        }
    }

    private async Task AcceptAsync(Socket listener)
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync();
            }
            catch (Exception error) when (error is SocketException or ObjectDisposedException)
            {
                return;
            }
            socket.NoDelay = true;
            Post(new SpeakerEvent.Inbound(socket));
        }
    }

    private void SetListenerKey(IPAddress peer, string? password)
    {
        if (_listener is null) return;
        try
        {
            TcpMd5.SetKey(_listener, peer, password);
        }
        catch (InvalidOperationException error)
        {
            _logger.LogWarning("BGP speaker: {Error}", error.Message);
        }
    }
}
