using System.Net;
using k8s.Models;
using Trellis.Ipam;

namespace Trellis.NodeAgent.Reclaiming;

/// <summary>Why an allocation's pod no longer needs it.</summary>
public enum StaleReason
{
    /// <summary>No pod of that namespace and name is bound to this node.</summary>
    PodGone,

    /// <summary>A pod of that namespace and name exists, but it is another pod (another UID): the one the address was for is gone.</summary>
    OtherUid,

    /// <summary>The pod has finished (phase Succeeded or Failed): its sandbox is torn down and never comes back.</summary>
    PodFinished,

    /// <summary>The pod lives on, but the sandbox the address was reserved for has no host veth left on the node (a reboot, a sandbox recreated).</summary>
    SandboxGone,
}

/// <summary>A pod bound to this node, as much of it as the reclaim decision reads.</summary>
/// <param name="Finished">Phase Succeeded or Failed.</param>
public sealed record PodFacts(string Namespace, string Name, string Uid, bool Finished)
{
    public static PodFacts From(V1Pod pod) =>
        new(pod.Metadata.NamespaceProperty ?? "", pod.Metadata.Name ?? "", pod.Metadata.Uid ?? "", pod.Status?.Phase is "Succeeded" or "Failed");
}

/// <summary>
/// The pods bound to this node as the agent knows them. <paramref name="Synced"/>: the Pod cache
/// has listed at least once; <paramref name="Reachable"/>: the API server answered the latest
/// look. Without both, an absent pod proves nothing.
/// </summary>
public sealed record PodView(bool Synced, bool Reachable, IReadOnlyList<PodFacts> Pods);

/// <summary>When an allocation was first seen stale, and whose it was then (an address freed and taken again is another allocation).</summary>
public sealed record StaleSighting(Attachment Owner, DateTimeOffset Since);

/// <summary>An allocation to free now, and why.</summary>
public sealed record Reclaim(Allocation Allocation, StaleReason Reason)
{
    public string Describe() =>
        $"{Allocation.Address} of {Allocation.Record!.Pod} ({Allocation.Owner}): {Reason switch
        {
            StaleReason.PodGone => "the pod is gone",
            StaleReason.OtherUid => "the pod of that name is another pod",
            StaleReason.PodFinished => "the pod has finished",
            _ => "its sandbox is gone",
        }}";
}

/// <summary>
/// What one pass decided: the allocations to free now, the sightings to carry into the next pass,
/// and when the next pass could free something that waits for time alone (null: nothing waits).
/// </summary>
public sealed record ReclaimPlan(IReadOnlyList<Reclaim> FreeNow, IReadOnlyDictionary<IPAddress, StaleSighting> Sightings, DateTimeOffset? NextDue);

/// <summary>
/// The reclaim decision, pure: which allocations of this node belong to pods that no longer need
/// them. An allocation is stale when its pod is gone, is another pod (UID), has finished, or lives
/// on without the sandbox the address was for (no host veth of the attachment). It is freed only
/// when it was stale on two passes at least <c>grace</c> apart and is itself at least <c>grace</c>
/// old, and never from a pass that cannot see the pods (cache not synced, API server unreachable):
/// Calico learned (calico#5044) that freeing a live pod's address is far worse than holding a dead
/// one's a little longer. Allocations without a whole pod identity (namespace, name and UID; made
/// by another runtime, or by the plugin before records carried one) are DEL's and GC's alone.
/// <para>
/// A pod that exists and has not reported its address yet keeps every allocation whose sandbox is
/// up, however long that takes: that is an ADD the kubelet has not reported, not a leak. When that
/// pod's sandbox is gone too the allocation is stale all the same: a rebooted node whose block was
/// full cannot give the pod a new sandbox (so it never reports an address) until the old one's
/// address is freed.
/// </para>
/// </summary>
public static class ReclaimPlanner
{
    /// <param name="allocations">The node's allocations (any order).</param>
    /// <param name="pods">The pods bound to the node; a pod listed twice (two views merged) counts as alive if any entry is.</param>
    /// <param name="sandboxes">Attachments whose host veth exists on the node.</param>
    /// <param name="sightings">What the previous pass returned (empty at start-up: a restarted agent waits a grace period again).</param>
    public static ReclaimPlan Plan(IReadOnlyList<Allocation> allocations, PodView pods, IReadOnlySet<Attachment> sandboxes,
        IReadOnlyDictionary<IPAddress, StaleSighting> sightings, DateTimeOffset now, TimeSpan grace)
    {
        // A pass that cannot see the pods neither confirms nor refutes what earlier passes saw.
        if (!pods.Synced || !pods.Reachable)
            return new ReclaimPlan([], sightings, null);

        var byName = pods.Pods.ToLookup(p => (p.Namespace, p.Name));
        var freeNow = new List<Reclaim>();
        var kept = new Dictionary<IPAddress, StaleSighting>();
        DateTimeOffset? nextDue = null;
        foreach (var allocation in allocations)
        {
            if (allocation.Record is not { Pod: { Namespace: { } ns, Name: { } name, Uid: { } uid } } record) continue;
            if (Stale(byName[(ns, name)], uid, sandboxes.Contains(record.Owner)) is not StaleReason reason) continue;

            var since = sightings.TryGetValue(allocation.Address, out var seen) && seen.Owner == record.Owner && seen.Since <= now ? seen.Since : now;
            // An allocation without a time (none is written so) is never old enough.
            var due = record.Created is { } created ? Later(since, created) + grace : DateTimeOffset.MaxValue;
            if (now >= due)
            {
                freeNow.Add(new Reclaim(allocation, reason));
                continue;
            }
            kept[allocation.Address] = new StaleSighting(record.Owner, since);
            if (due != DateTimeOffset.MaxValue && (nextDue is null || due < nextDue)) nextDue = due;
        }
        return new ReclaimPlan(freeNow, kept, nextDue);
    }

    /// <summary>Why the allocation of pod (UID <paramref name="uid"/>) is stale given the pods of that name; null when it is not.</summary>
    private static StaleReason? Stale(IEnumerable<PodFacts> samePodName, string uid, bool sandboxUp)
    {
        var named = samePodName.ToList();
        if (named.Count == 0) return StaleReason.PodGone;
        var same = named.Where(p => p.Uid == uid).ToList();
        if (same.Count == 0) return StaleReason.OtherUid;
        if (same.All(p => p.Finished)) return StaleReason.PodFinished;
        return sandboxUp ? null : StaleReason.SandboxGone;
    }

    private static DateTimeOffset Later(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}
