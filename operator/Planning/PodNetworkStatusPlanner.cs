using k8s.Models;
using Trellis.Crds;
using Trellis.Operator.Validation;

namespace Trellis.Operator.Planning;

/// <summary>What a reconcile learned about one network, for its status.</summary>
public sealed record NetworkObservation(
    ValidationVerdict Verdict,
    IReadOnlyList<string> Exhausted,
    long BlocksAllocated,
    long BlocksTotal,
    int Nodes)
{
    /// <summary>Selected nodes the network refuses to serve, one sentence each (an address inside a range, a name too long).</summary>
    public IReadOnlyList<string> Unserved { get; init; } = [];
}

/// <summary>A Warning Event to record about the PodNetwork.</summary>
public sealed record NetworkWarning(string Reason, string Message);

/// <summary>
/// Turns an observation into PodNetwork status, keeping each condition's lastTransitionTime while its
/// status stays the same, and says whether anything a reader would notice changed (so an unchanged
/// status is never written).
/// </summary>
public static class PodNetworkStatusPlanner
{
    public const string ReasonInvalid = "Invalid";

    public static PodNetworkStatus Plan(PodNetwork network, NetworkObservation observation, DateTime now)
    {
        var generation = network.Metadata.Generation;
        var previous = network.Status?.Conditions ?? [];
        var valid = Condition(previous, Conditions.Valid, observation.Verdict.Valid, observation.Verdict.Reason, observation.Verdict.Message, generation, now);
        var ready = !observation.Verdict.Valid
            ? Condition(previous, Conditions.Ready, false, ReasonInvalid, $"no block is handed out while the spec is invalid: {observation.Verdict.Message}", generation, now)
            : observation.Exhausted.Count > 0
                ? Condition(previous, Conditions.Ready, false, Conditions.ReasonPoolExhausted, string.Join("; ", observation.Exhausted.Concat(observation.Unserved)), generation, now)
                : observation.Unserved.Count > 0
                    ? Condition(previous, Conditions.Ready, false, Conditions.ReasonNodesNotServed, string.Join("; ", observation.Unserved), generation, now)
                    : Condition(previous, Conditions.Ready, true, Conditions.ReasonAllocated, $"{observation.Nodes} nodes hold {observation.BlocksAllocated} of {observation.BlocksTotal} blocks", generation, now);
        return new PodNetworkStatus
        {
            ObservedGeneration = generation,
            Conditions = [ready, valid],
            BlocksAllocated = observation.BlocksAllocated,
            BlocksTotal = observation.BlocksTotal,
            Nodes = observation.Nodes,
        };
    }

    /// <summary>True when <paramref name="desired"/> says something <paramref name="current"/> does not.</summary>
    public static bool Differs(PodNetworkStatus? current, PodNetworkStatus desired)
    {
        if (current is null) return true;
        if (current.ObservedGeneration != desired.ObservedGeneration || current.BlocksAllocated != desired.BlocksAllocated ||
            current.BlocksTotal != desired.BlocksTotal || current.Nodes != desired.Nodes ||
            current.Conditions.Count != desired.Conditions.Count)
            return true;
        foreach (var want in desired.Conditions)
        {
            var have = current.Conditions.FirstOrDefault(c => c.Type == want.Type);
            if (have is null || have.Status != want.Status || have.Reason != want.Reason || have.Message != want.Message ||
                have.ObservedGeneration != want.ObservedGeneration)
                return true;
        }
        return false;
    }

    /// <summary>
    /// The Warning Events a change of status deserves: a pool that became exhausted or a node refused service
    /// (each new message once), and a spec that became invalid (once, with the validator's reason).
    /// </summary>
    public static IReadOnlyList<NetworkWarning> Warnings(PodNetworkStatus? before, PodNetworkStatus after, ValidationVerdict verdict)
    {
        var was = Find(before, Conditions.Ready);
        var now = Find(after, Conditions.Ready);
        if (now is null || (now.Reason == was?.Reason && now.Message == was?.Message)) return [];
        return now.Reason switch
        {
            Conditions.ReasonPoolExhausted or Conditions.ReasonNodesNotServed => [new NetworkWarning(now.Reason, now.Message)],
            ReasonInvalid when was?.Reason != ReasonInvalid => [new NetworkWarning(verdict.Reason, verdict.Message)],
            _ => [],
        };
    }

    public static V1Condition? Find(PodNetworkStatus? status, string type) => status?.Conditions.FirstOrDefault(c => c.Type == type);

    private static V1Condition Condition(IList<V1Condition> previous, string type, bool status, string reason, string message, long? generation, DateTime now)
    {
        var text = status ? "True" : "False";
        var before = previous.FirstOrDefault(c => c.Type == type);
        return new V1Condition
        {
            Type = type,
            Status = text,
            Reason = reason,
            Message = message,
            ObservedGeneration = generation,
            LastTransitionTime = before is not null && before.Status == text ? before.LastTransitionTime : now,
        };
    }
}
