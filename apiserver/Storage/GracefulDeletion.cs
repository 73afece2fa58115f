using System.Globalization;
using System.Text.Json.Nodes;

namespace Trellis.ApiServer.Storage;

/// <summary>What one DELETE does to an object of a type that deletes gracefully (pods).</summary>
public abstract record GracefulDeletionStep
{
    private GracefulDeletionStep() { }

    /// <summary>Remove it now (its finalizers permitting).</summary>
    public sealed record DeleteNow : GracefulDeletionStep;

    /// <summary>It is already being deleted within a period no longer than the one asked for: change nothing.</summary>
    public sealed record AlreadyPending : GracefulDeletionStep;

    /// <summary>
    /// Set deletionTimestamp and deletionGracePeriodSeconds. A period of 0 removes the object right
    /// after (its finalizers permitting); a longer one leaves it to the component that owns it
    /// (the kubelet) to delete it again with period 0 once it has stopped it.
    /// </summary>
    public sealed record Mark(DateTimeOffset DeletionTimestamp, long GracePeriodSeconds, bool FirstMark) : GracefulDeletionStep;
}

/// <summary>
/// kube-apiserver's BeforeDelete, as a pure decision: a first delete starts a grace period chosen by
/// the type's strategy; a later one may only shorten it (the deadline moves back, never into the
/// past unless the period asked for is 0); an object marked with no period or period 0 is removed.
/// </summary>
public static class GracefulDeletion
{
    /// <param name="metadata">The stored object's metadata.</param>
    /// <param name="requested">DeleteOptions.gracePeriodSeconds; negative values count as 1, as upstream.</param>
    /// <param name="strategyPeriod">The type's period for a first delete, given the requested one.</param>
    public static GracefulDeletionStep Decide(JsonObject metadata, long? requested, Func<long?, long> strategyPeriod, DateTimeOffset now)
    {
        if (requested < 0) requested = 1;
        if (metadata["deletionTimestamp"]?.GetValue<string>() is { } marked)
        {
            var current = metadata["deletionGracePeriodSeconds"]?.GetValue<long>();
            if (current is null or 0) return new GracefulDeletionStep.DeleteNow();
            if (requested is not { } shorter || shorter >= current) return new GracefulDeletionStep.AlreadyPending();
            var deadline = DateTimeOffset.Parse(marked, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal)
                .AddSeconds(shorter - current.Value);
            if (deadline < now)
            {
                deadline = now;
                // A graceful delete asked for after its whole period has passed stays graceful: the owner still deletes last.
                if (shorter != 0) shorter = 1;
            }
            return new GracefulDeletionStep.Mark(deadline, shorter, FirstMark: false);
        }
        var period = Math.Max(0, strategyPeriod(requested));
        return new GracefulDeletionStep.Mark(now.AddSeconds(period), period, FirstMark: true);
    }
}
