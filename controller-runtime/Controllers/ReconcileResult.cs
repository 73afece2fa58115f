namespace Trellis.ControllerRuntime.Controllers;

/// <summary>
/// What a reconcile asks of the controller. An exception thrown by the reconciler is the third outcome:
/// the key is retried with per-key exponential backoff.
/// </summary>
public sealed record ReconcileResult
{
    private ReconcileResult(TimeSpan? requeueAfter) => RequeueAfter = requeueAfter;

    /// <summary>Converged: forget the key's failure history and wait for the next change.</summary>
    public static ReconcileResult Done { get; } = new((TimeSpan?)null);

    /// <summary>Not failed, but look again after <paramref name="delay"/> (e.g. waiting on something outside the watch).</summary>
    public static ReconcileResult After(TimeSpan delay)
    {
        if (delay < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(delay), delay, "requeue delay must not be negative");
        return new ReconcileResult(delay);
    }

    public TimeSpan? RequeueAfter { get; }
}
