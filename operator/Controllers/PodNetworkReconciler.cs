using System.Collections.Concurrent;
using System.Net.Sockets;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Trellis.ControllerRuntime.Controllers;
using Trellis.ControllerRuntime.Events;
using Trellis.Crds;
using Trellis.Operator.Allocation;
using Trellis.Operator.Hosting;
using Trellis.Operator.Policy;
using Trellis.Operator.Selection;
using Trellis.Operator.Status;
using Trellis.Operator.Validation;

namespace Trellis.Operator.Controllers;

/// <summary>
/// Reconciles one PodNetwork: every selected node with an InternalIP gets its NodeSubnet, the
/// NodeSubnets of nodes that left are deleted (and only then their blocks released), and the
/// status says what happened. Writes happen only where the cluster differs from the plan.
/// </summary>
public sealed class PodNetworkReconciler(
    ClusterView view,
    SharedAllocator allocator,
    ClusterWriter writer,
    EventRecorder events,
    OperatorOptions options,
    ILogger<PodNetworkReconciler> logger,
    TimeProvider? time = null) : IReconciler<string>
{
    private readonly PodNetworkValidation _validation = new();
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    // The status this term last wrote per network: the cache may not show it yet, and writing from a
    // stale copy would only earn a 409.
    private readonly ConcurrentDictionary<string, PodNetworkStatus> _written = new(StringComparer.Ordinal);

    public async Task<ReconcileResult> ReconcileAsync(string name, CancellationToken cancellationToken)
    {
        var network = view.Networks.Get(name);
        if (network is null)
        {
            await RemoveNetworkAsync(name, cancellationToken).ConfigureAwait(false);
            return ReconcileResult.Done;
        }

        var existing = view.SubnetsOf(name);
        var verdict = Validate(network, existing.Values);
        allocator.Use(a => a.DefinePool(new PoolDefinition(name, PodNetworkSpecValidator.ParsedRanges(network),
            network.Spec.BlockSize.IPv4, network.Spec.BlockSize.IPv6, verdict.Valid)));

        var selected = view.Nodes.List()
            .Where(node => LabelSelector.Matches(network.Spec.NodeSelector, node.Metadata.Labels) && NodeSubnetPlanner.InternalAddresses(node).Count > 0)
            .OrderBy(node => node.Metadata.CreationTimestamp ?? DateTime.MaxValue).ThenBy(node => node.Metadata.Name, StringComparer.Ordinal)
            .ToList();
        var selectedNames = selected.Select(node => node.Metadata.Name).ToHashSet(StringComparer.Ordinal);
        var failures = new ConcurrentBag<Exception>();

        // A block goes back to the pool only once its NodeSubnet is gone, so no two live NodeSubnets ever share it.
        var stale = existing.Values.Where(s => !selectedNames.Contains(s.Spec.NodeName) || s.Metadata.Name != NodeSubnet.NameFor(name, s.Spec.NodeName)).ToList();
        await ForEachAsync(stale, async (subnet, ct) =>
        {
            await writer.DeleteAsync(subnet.Metadata.Name, ct).ConfigureAwait(false);
            view.Deleted(subnet.Metadata.Name);
            existing.Remove(subnet.Metadata.Name);
            logger.LogInformation("PodNetwork {Network}: deleted NodeSubnet {NodeSubnet} of node {Node}, which {Why}", name, subnet.Metadata.Name,
                subnet.Spec.NodeName, view.Nodes.Get(subnet.Spec.NodeName) is null ? "is gone" : "is no longer selected or has no InternalIP");
        }, failures, cancellationToken).ConfigureAwait(false);
        var stillHeld = existing.Values.Select(s => s.Spec.NodeName).ToHashSet(StringComparer.Ordinal);

        var families = NodeSubnetPlanner.Families(network);
        var plans = new List<(V1Node Node, NodeSubnet Desired)>();
        var waiting = new Dictionary<AddressFamily, (string Message, List<string> Nodes)>();
        long allocated = 0, total = 0;
        allocator.Use(a =>
        {
            foreach (var node in a.Holdings(name).Keys.ToList())
                if (!selectedNames.Contains(node) && !stillHeld.Contains(node))
                    a.Release(name, node);
            foreach (var node in selected)
            {
                foreach (var family in families)
                {
                    var result = a.Allocate(name, node.Metadata.Name, family);
                    if (result.Outcome == AllocationOutcome.Allocated)
                        logger.LogInformation("PodNetwork {Network}: node {Node} gets block {Block}", name, node.Metadata.Name, result.Block);
                    else if (result.Outcome == AllocationOutcome.Exhausted)
                    {
                        if (!waiting.TryGetValue(family, out var entry)) waiting[family] = entry = (result.Message!, new List<string>());
                        entry.Nodes.Add(node.Metadata.Name);
                    }
                }
                if (NodeSubnetPlanner.Plan(network, node, a.BlocksOf(name, node.Metadata.Name)) is { } desired)
                    plans.Add((node, desired));
            }
            allocated = a.Allocated(name);
            total = a.Total(name);
        });

        int present = 0;
        await ForEachAsync(plans, async (plan, ct) =>
        {
            var subnetName = plan.Desired.Metadata.Name;
            if (existing.TryGetValue(subnetName, out var current))
            {
                if (NodeSubnetPlanner.NeedsUpdate(current, plan.Desired))
                {
                    view.Wrote(await writer.UpdateAsync(current, plan.Desired, ct).ConfigureAwait(false));
                    logger.LogInformation("PodNetwork {Network}: updated NodeSubnet {NodeSubnet}", name, subnetName);
                }
            }
            else
            {
                view.Wrote(await writer.CreateAsync(plan.Desired, ct).ConfigureAwait(false));
            }
            Interlocked.Increment(ref present);
            if (options.SetNodePodCidrs && plan.Node.Spec?.PodCIDR is null or "" && plan.Node.Spec?.PodCIDRs is null or { Count: 0 })
                await writer.SetPodCidrsAsync(plan.Node, plan.Desired.Spec.Cidrs.ToList(), ct).ConfigureAwait(false);
        }, failures, cancellationToken).ConfigureAwait(false);

        var exhausted = waiting.Select(w =>
            $"{w.Value.Message}; {w.Value.Nodes.Count} node(s) wait for one: {string.Join(", ", w.Value.Nodes.Take(5))}{(w.Value.Nodes.Count > 5 ? ", ..." : "")}").ToList();
        await ReportAsync(network, new NetworkObservation(verdict, exhausted, allocated, total, present), cancellationToken).ConfigureAwait(false);

        if (!failures.IsEmpty)
            throw new AggregateException($"PodNetwork {name}: {failures.Count} NodeSubnet writes failed; retrying", failures);
        return ReconcileResult.Done;
    }

    private ValidationVerdict Validate(PodNetwork network, IEnumerable<NodeSubnet> existing)
    {
        var name = network.Metadata.Name;
        var inUse = allocator.Use(a => a.Holdings(name).Values.SelectMany(blocks => blocks).ToList());
        inUse.AddRange(existing.SelectMany(NodeSubnetPlanner.Blocks));
        var verdict = _validation.Evaluate(new PodNetworkInCluster(network, view.Networks.List(), inUse));
        if (!verdict.Valid)
            logger.LogWarning("PodNetwork {Network} is invalid ({Reason}): {Message}", name, verdict.Reason, verdict.Message);
        return verdict;
    }

    private async Task ReportAsync(PodNetwork network, NetworkObservation observation, CancellationToken cancellationToken)
    {
        var before = PodNetworkStatusPlanner.Find(network.Status, Conditions.Ready);
        var now = _time.GetUtcNow().UtcDateTime;
        var planned = PodNetworkStatusPlanner.Plan(network, observation, now);
        var name = network.Metadata.Name;
        bool alreadyWritten = _written.TryGetValue(name, out var written) && !PodNetworkStatusPlanner.Differs(written, planned);
        if (PodNetworkStatusPlanner.Differs(network.Status, planned) && !alreadyWritten)
        {
            var stored = await writer.WriteStatusAsync(network, current =>
            {
                var status = PodNetworkStatusPlanner.Plan(current, observation, now);
                return PodNetworkStatusPlanner.Differs(current.Status, status) ? status : null;
            }, cancellationToken).ConfigureAwait(false);
            if (stored.Status is { } status) _written[name] = status;
        }

        var after = planned.Conditions.First(c => c.Type == Conditions.Ready);
        if (!alreadyWritten && (after.Reason != before?.Reason || after.Message != before?.Message))
        {
            if (after.Reason == Conditions.ReasonPoolExhausted)
            {
                logger.LogWarning("PodNetwork {Network}: pool exhausted: {Message}", network.Metadata.Name, after.Message);
                await events.WarningAsync(network, Conditions.ReasonPoolExhausted, after.Message, cancellationToken).ConfigureAwait(false);
            }
            else if (after.Reason == PodNetworkStatusPlanner.ReasonInvalid && before?.Reason != PodNetworkStatusPlanner.ReasonInvalid)
            {
                await events.WarningAsync(network, observation.Verdict.Reason, observation.Verdict.Message, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task RemoveNetworkAsync(string name, CancellationToken cancellationToken)
    {
        var failures = new ConcurrentBag<Exception>();
        await ForEachAsync(view.SubnetsOf(name).Values.ToList(), async (subnet, ct) =>
        {
            await writer.DeleteAsync(subnet.Metadata.Name, ct).ConfigureAwait(false);
            view.Deleted(subnet.Metadata.Name);
        }, failures, cancellationToken).ConfigureAwait(false);
        if (!failures.IsEmpty)
            throw new AggregateException($"PodNetwork {name} is gone but {failures.Count} of its NodeSubnets could not be deleted; retrying", failures);
        allocator.Use(a => a.RemovePool(name));
        _written.TryRemove(name, out _);
        logger.LogInformation("PodNetwork {Network} is gone; its NodeSubnets are deleted and its blocks released", name);
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
