namespace Trellis.Operator.Hosting;

/// <summary>What the health endpoint reports: whether this replica leads, and whether its caches are synced.</summary>
public sealed class OperatorState
{
    private volatile bool _started;
    private volatile bool _leading;
    private volatile bool _synced;

    public bool Started { get => _started; set => _started = value; }
    public bool Leading { get => _leading; set => _leading = value; }
    public bool Synced { get => _synced; set => _synced = value; }

    /// <summary>A standby replica is ready (it is waiting for the lease by design); a leader is ready once its caches are synced.</summary>
    public bool Ready => Started && (!Leading || Synced);
}
