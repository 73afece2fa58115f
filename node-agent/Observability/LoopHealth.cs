using Trellis.ControllerRuntime.Hosting;

namespace Trellis.NodeAgent.Observability;

/// <summary>
/// The agent's loop as the kubelet's probes see it. Alive: no pass has run longer than <see cref="StuckAfter"/>,
/// and, once passes have begun, one finished within a resync period plus that margin (the resync wakes the loop
/// even when nothing changes, so a loop that stopped waking is caught too). Before the first pass the agent is
/// waiting for its NodeSubnet cache, which an unreachable API server can hold up for any time: restarting the
/// agent would not help, so that counts as alive. Ready: the last pass programmed the node.
/// </summary>
public sealed class LoopHealth(TimeSpan resync, TimeProvider? clock = null)
{
    /// <summary>A full pass at 5,000 peers takes well under a second; two minutes in one pass is a hang (a lock, a kernel call that never returns).</summary>
    public static readonly TimeSpan StuckAfter = TimeSpan.FromMinutes(2);

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly object _lock = new();
    private DateTimeOffset? _passStarted;
    private DateTimeOffset? _lastFinished;
    private string? _notProgrammed = "no pass has finished yet";

    public void PassStarted()
    {
        lock (_lock) _passStarted = _clock.GetUtcNow();
    }

    /// <summary>Records the end of a pass; <paramref name="notProgrammed"/> is null when it programmed the node, else why not.</summary>
    public void PassFinished(string? notProgrammed)
    {
        lock (_lock)
        {
            _passStarted = null;
            _lastFinished = _clock.GetUtcNow();
            _notProgrammed = notProgrammed;
        }
    }

    public ProbeAnswer Liveness()
    {
        var now = _clock.GetUtcNow();
        lock (_lock)
        {
            if (_passStarted is { } started && now - started > StuckAfter)
                return new ProbeAnswer(false, $"a pass has run for {(now - started).TotalSeconds:0} s (stuck after {StuckAfter.TotalSeconds:0} s)");
            if (_passStarted is null && _lastFinished is { } finished && now - finished > resync + StuckAfter)
                return new ProbeAnswer(false, $"no pass for {(now - finished).TotalSeconds:0} s (a resync is due every {resync.TotalSeconds:0} s)");
            return ProbeAnswer.Ok;
        }
    }

    public ProbeAnswer Readiness()
    {
        lock (_lock)
            return _notProgrammed is null ? ProbeAnswer.Ok : new ProbeAnswer(false, $"not programmed: {_notProgrammed}");
    }
}
