using System.Net;
using Trellis.Bgp.Messages;

namespace Trellis.Bgp.Session;

/// <summary>Graceful restart as this speaker offers it (RFC 4724).</summary>
/// <param name="RestartTime">How long peers keep this speaker's routes after its session drops.</param>
public sealed record GracefulRestartSettings(TimeSpan RestartTime);

/// <summary>Everything one session needs to know about both ends and its timers.</summary>
public sealed record SessionSettings(
    uint LocalAsn,
    IPAddress RouterId,
    IPAddress PeerAddress,
    uint PeerAsn,
    TimeSpan HoldTime,
    IReadOnlyList<AfiSafi> Families,
    GracefulRestartSettings? GracefulRestart = null,
    bool PasswordSet = false)
{
    /// <summary>The first retry after a failure; each further failure doubles it up to <see cref="ConnectRetryMaximum"/>.</summary>
    public TimeSpan ConnectRetryMinimum { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan ConnectRetryMaximum { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long an outgoing TCP connection may take before it counts as failed.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The hold timer between sending OPEN and receiving the peer's (RFC 4271 suggests four minutes).</summary>
    public TimeSpan OpenHoldTime { get; init; } = TimeSpan.FromMinutes(4);

    public bool IsInternal => LocalAsn == PeerAsn;

    /// <summary>The OPEN this speaker sends: its families, route refresh, four-octet AS and, when on, graceful restart with forwarding kept.</summary>
    /// <param name="restarting">The R bit: no session with this peer has come up since this speaker started.</param>
    public OpenMessage CreateOpen(bool restarting)
    {
        var capabilities = new List<Capability>();
        capabilities.AddRange(Families.Select(f => new MultiprotocolCapability(f)));
        capabilities.Add(new RouteRefreshCapability());
        if (GracefulRestart is { } gr)
            capabilities.Add(new GracefulRestartCapability(
                restarting ? GracefulRestartCapability.RestartStateBit : (byte)0,
                (ushort)Math.Clamp(gr.RestartTime.TotalSeconds, 0, GracefulRestartCapability.MaxRestartTimeSeconds),
                // The node's routes live in its kernel, not in this process: forwarding survives a restart.
                Families.Select(GracefulRestartFamily.Preserved).ToList()));
        return OpenMessage.Create(LocalAsn, (ushort)HoldTime.TotalSeconds, RouterId, capabilities);
    }
}
