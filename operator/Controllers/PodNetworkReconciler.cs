using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Trellis.ControllerRuntime.Controllers;
using Trellis.ControllerRuntime.Events;
using Trellis.Crds;
using Trellis.Operator.Allocation;
using Trellis.Operator.Facts;
using Trellis.Operator.Hosting;
using Trellis.Operator.Planning;

namespace Trellis.Operator.Controllers;

/// <summary>
/// Reconciles one PodNetwork: reads the facts from the caches, has <see cref="PodNetworkPlanner"/> decide,
/// and applies the plan (deletes, creates, updates, podCIDRs, status, Events). Every write it makes is
/// assumed into the caches, so the next reconcile plans from it even before its watch event arrives.
/// </summary>
public sealed class PodNetworkReconciler(
    InformerCaches caches,
    SharedAllocator allocator,
    ClusterWriter writer,
    EventRecorder events,
    OperatorOptions options,
    ILogger<PodNetworkReconciler> logger,
    OperatorMetrics? metrics = null,
    TimeProvider? time = null) : IReconciler<string>
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public Task<ReconcileResult> ReconcileAsync(string name, CancellationToken cancellationToken) => ReconcileAsync(name, reread: false, cancellationToken);

    private async Task<ReconcileResult> ReconcileAsync(string name, bool reread, CancellationToken cancellationToken)
    {
        var subnets = caches.SubnetsOf(name);
        var plan = caches.Networks.Get(name) is { } network
            ? PlanFor(PodNetworkFacts.Parse(network), subnets)
            : PodNetworkPlanner.PlanRemoval(name, subnets);
        if (plan.Status is null) metrics?.ForgetNetwork(name);
        if (!reread && plan.Create.Count > 0 && caches.Networks.Get(name) is { } cached && await IsStaleAsync(cached, cancellationToken).ConfigureAwait(false))
            return await ReconcileAsync(name, reread: true, cancellationToken).ConfigureAwait(false);
        Log(plan);

        var failures = new ConcurrentBag<Exception>();
        await ForEachAsync(plan.Delete, async (deletion, ct) =>
        {
            await writer.DeleteAsync(deletion.Subnet.Metadata.Name, ct).ConfigureAwait(false);
            caches.Subnets.AssumeDeleted(deletion.Subnet);
            logger.LogInformation("PodNetwork {Network}: deleted NodeSubnet {NodeSubnet} of node {Node}, which {Why}", name,
                deletion.Subnet.Metadata.Name, deletion.Subnet.Spec.NodeName, deletion.Why);
        }, failures, cancellationToken).ConfigureAwait(false);
        int failedWrites = 0;
        await ForEachAsync(plan.Create, async (subnet, ct) =>
        {
            try
            {
                caches.Subnets.Assume(await writer.CreateAsync(subnet, ct).ConfigureAwait(false));
            }
            catch
            {
                Interlocked.Increment(ref failedWrites);
                throw;
            }
        }, failures, cancellationToken).ConfigureAwait(false);
        await ForEachAsync(plan.Update, async (change, ct) =>
        {
            caches.Subnets.Assume(await writer.UpdateAsync(change.Current, change.Desired, ct).ConfigureAwait(false));
            logger.LogInformation("PodNetwork {Network}: updated NodeSubnet {NodeSubnet}", name, change.Desired.Metadata.Name);
        }, failures, cancellationToken).ConfigureAwait(false);
        await ForEachAsync(plan.PodCidrs, async (assignment, ct) =>
            caches.Nodes.Assume(await writer.SetPodCidrsAsync(assignment.Node.Node, assignment.Cidrs, ct).ConfigureAwait(false)),
            failures, cancellationToken).ConfigureAwait(false);

        if (plan.RemovePoolOnceDeleted && failures.IsEmpty)
        {
            allocator.Use(a => a.RemovePool(name));
            logger.LogInformation("PodNetwork {Network} is gone; its NodeSubnets are deleted and its blocks released", name);
        }
        if (plan.Status is { } observation && caches.Networks.Get(name) is { } current)
            await ReportAsync(current, observation with { Nodes = observation.Nodes - failedWrites }, cancellationToken).ConfigureAwait(false);

        if (!failures.IsEmpty)
            throw new AggregateException($"PodNetwork {name}: {failures.Count} writes failed; retrying", failures);
        return plan.RecheckAfter is { } after ? ReconcileResult.After(after) : ReconcileResult.Done;
    }

    /// <summary>
    /// Whether the cache's network is out of date, in which case the cache now holds the stored one.
    /// Before NodeSubnets are made: missing ones may have been collected because the network is being
    /// deleted, and the watches of two kinds keep no order between them, so the cache may not know yet.
    /// One read per reconcile that creates (nodes joining), none otherwise.
    /// </summary>
    private async Task<bool> IsStaleAsync(PodNetwork cached, CancellationToken cancellationToken)
    {
        var stored = await writer.ReadNetworkAsync(cached.Metadata.Name, cancellationToken).ConfigureAwait(false);
        if (stored is null)
        {
            caches.Networks.AssumeDeleted(cached);
            return true;
        }
        if (stored.Metadata.Uid == cached.Metadata.Uid && (stored.Metadata.DeletionTimestamp is null) == (cached.Metadata.DeletionTimestamp is null))
            return false;
        caches.Networks.Assume(stored);
        return true;
    }

    private PodNetworkPlan PlanFor(PodNetworkFacts network, IReadOnlyList<NodeSubnet> subnets)
    {
        var cluster = new ClusterFacts(
            caches.Networks.List().Select(PodNetworkFacts.Parse).ToList(),
            caches.Nodes.List().Select(NodeFacts.Parse).ToList(),
            subnets,
            options.SetNodePodCidrs) { Now = _time.GetUtcNow().UtcDateTime };
        return allocator.Use(ledger => PodNetworkPlanner.Plan(network, cluster, subnets, ledger));
    }

    private void Log(PodNetworkPlan plan)
    {
        foreach (var change in plan.Taken)
            logger.LogInformation("PodNetwork {Network}: node {Node} gets block {Block}", plan.Network, change.Node, change.Block);
        foreach (var change in plan.Draining)
            logger.LogInformation("PodNetwork {Network}: extra block {Block} of node {Node} has stayed empty; it drains (no new pod there)", plan.Network, change.Block, change.Node);
        foreach (var change in plan.Reopened)
            logger.LogInformation("PodNetwork {Network}: draining block {Block} of node {Node} is open again (a pod holds an address in it, or the node runs low)", plan.Network, change.Block, change.Node);
        foreach (var change in plan.Retired)
            logger.LogInformation("PodNetwork {Network}: extra block {Block} of node {Node} is drained; it leaves the node", plan.Network, change.Block, change.Node);
        foreach (var change in plan.Released)
            logger.LogInformation("PodNetwork {Network}: block {Block} of node {Node} returns to the pool", plan.Network, change.Block, change.Node);
        if (plan.Status?.Verdict is { Valid: false } verdict)
            logger.LogWarning("PodNetwork {Network} is invalid ({Reason}): {Message}", plan.Network, verdict.Reason, verdict.Message);
        foreach (var refusal in plan.Status?.Unserved ?? [])
            logger.LogWarning("PodNetwork {Network}: {Refusal}", plan.Network, refusal);
    }

    private async Task ReportAsync(PodNetwork network, NetworkObservation observation, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        metrics?.RecordBlocks(network.Metadata.Name, observation.BlocksAllocated, observation.BlocksTotal, observation.Nodes);
        var planned = PodNetworkStatusPlanner.Plan(network, observation, now);
        if (!PodNetworkStatusPlanner.Differs(network.Status, planned)) return;
        var stored = await writer.WriteStatusAsync(network, current =>
        {
            var status = PodNetworkStatusPlanner.Plan(current, observation, now);
            return PodNetworkStatusPlanner.Differs(current.Status, status) ? status : null;
        }, cancellationToken).ConfigureAwait(false);
        caches.Networks.Assume(stored);
        foreach (var warning in PodNetworkStatusPlanner.Warnings(network.Status, planned, observation.Verdict))
        {
            logger.LogWarning("PodNetwork {Network}: {Reason}: {Message}", network.Metadata.Name, warning.Reason, warning.Message);
            await events.WarningAsync(network, warning.Reason, warning.Message, cancellationToken).ConfigureAwait(false);
        }
    }

    private Task ForEachAsync<T>(IReadOnlyCollection<T> items, Func<T, CancellationToken, Task> write, ConcurrentBag<Exception> failures, CancellationToken cancellationToken)
    {
        if (items.Count == 0) return Task.CompletedTask;
        return Parallel.ForEachAsync(items, new ParallelOptions { MaxDegreeOfParallelism = options.WriteConcurrency, CancellationToken = cancellationToken },
            async (item, ct) =>
            {
                try
                {
                    await write(item, ct).ConfigureAwait(false);
                }
                catch (Exception error) when (error is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    failures.Add(error);
                }
            });
    }
}
