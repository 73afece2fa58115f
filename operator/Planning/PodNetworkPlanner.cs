using System.Net.Sockets;
using Trellis.Addressing;
using Trellis.Crds;
using Trellis.Operator.Allocation;
using Trellis.Operator.Facts;
using Trellis.Operator.Validation;

namespace Trellis.Operator.Planning;

/// <summary>What the planner reads besides the network: the cluster as the caches hold it.</summary>
public sealed record ClusterFacts(
    IReadOnlyList<PodNetworkFacts> Networks,
    IReadOnlyList<NodeFacts> Nodes,
    IReadOnlyCollection<NodeSubnet> Subnets,
    bool SetNodePodCidrs = false)
{
    /// <summary>The time growth and release are judged at (how long a block has been reported empty).</summary>
    public DateTime Now { get; init; } = DateTime.UtcNow;
}

/// <summary>
/// Plans one PodNetwork: which nodes it serves, their blocks, their NodeSubnets, its status. No I/O. The
/// allocator is the plan's ledger: planning takes and releases blocks in it (memory only, under the
/// caller's lock), so two reconciles planning at once can never choose the same block; a write that then
/// fails leaves the block with its node, and the next reconcile writes it again.
/// </summary>
public static class PodNetworkPlanner
{
    private const int NamedWaitingNodes = 5;
    private const int LongestObjectName = 253;
    private static readonly PodNetworkValidation Validation = new();

    /// <param name="subnets">The network's NodeSubnets (by label or spec), as last written or seen.</param>
    public static PodNetworkPlan Plan(PodNetworkFacts network, ClusterFacts cluster, IReadOnlyCollection<NodeSubnet> subnets, BlockAllocator ledger)
    {
        var name = network.Name;
        if (network.Terminating) return PlanTermination(network, subnets, ledger);

        var inUse = ledger.Holdings(name).Values.SelectMany(blocks => blocks).Concat(subnets.SelectMany(NodeSubnetPlanner.Blocks)).ToList();
        var verdict = Validation.Evaluate(new PodNetworkInCluster(network, cluster.Networks, inUse, cluster.Nodes));
        ledger.DefinePool(new PoolDefinition(name, network.Ranges, network.Spec.BlockSize.IPv4, network.Spec.BlockSize.IPv6, verdict.Valid));

        var selected = cluster.Nodes
            .Where(node => LabelSelectorMatch.Matches(network.Spec.NodeSelector, node.Labels))
            .OrderBy(node => node.Created ?? DateTime.MaxValue).ThenBy(node => node.Name, StringComparer.Ordinal)
            .ToList();
        var selectedNames = selected.Select(node => node.Name).ToHashSet(StringComparer.Ordinal);
        var nodeNames = cluster.Nodes.Select(node => node.Name).ToHashSet(StringComparer.Ordinal);

        // A node keeps its NodeSubnet while its Node exists and the network selects it, whatever its addresses do.
        // A block goes back to the pool only once its NodeSubnet is gone (a later reconcile), so no two live
        // NodeSubnets ever share one.
        var delete = new List<NodeSubnetDeletion>();
        var existing = new Dictionary<string, NodeSubnet>(StringComparer.Ordinal);
        foreach (var subnet in subnets.OrderBy(s => s.Metadata.Name, StringComparer.Ordinal))
        {
            var node = subnet.Spec.NodeName;
            if (subnet.Metadata.Name != NodeSubnet.NameFor(name, node))
                delete.Add(new NodeSubnetDeletion(subnet, $"is not named {NodeSubnet.NameFor(name, node)}"));
            else if (!selectedNames.Contains(node))
                delete.Add(new NodeSubnetDeletion(subnet, nodeNames.Contains(node) ? "is no longer selected" : "is gone"));
            else
                existing[subnet.Metadata.Name] = subnet;
        }
        var stillHeld = subnets.Select(s => s.Spec.NodeName).ToHashSet(StringComparer.Ordinal);
        var released = new List<BlockChange>();
        foreach (var (node, blocks) in ledger.Holdings(name).ToList())
        {
            if (selectedNames.Contains(node) || stillHeld.Contains(node)) continue;
            released.AddRange(blocks.Select(block => new BlockChange(node, block)));
            ledger.Release(name, node);
        }

        // An extra block leaves in two steps: retired (still held, dropped from the NodeSubnet's spec), then returned
        // to the pool once the NodeSubnet no longer lists it, so no two live NodeSubnets ever share a block.
        foreach (var (node, blocks) in ledger.Holdings(name).ToList())
        {
            var listed = existing.TryGetValue(NodeSubnet.NameFor(name, node), out var subnet) ? NodeSubnetPlanner.Blocks(subnet) : [];
            foreach (var block in blocks.Where(b => ledger.IsRetiring(b) && !listed.Contains(b)).ToList())
            {
                released.Add(new BlockChange(node, block));
                ledger.ReleaseBlock(name, node, block);
            }
        }

        var policy = BlockGrowthPolicy.Of(network.Spec);
        var retired = new List<BlockChange>();
        var drainStarted = new List<BlockChange>();
        var reopened = new List<BlockChange>();
        TimeSpan? recheck = null;
        var avoid = new AddressSet(cluster.Nodes.SelectMany(node => node.Addresses));
        var taken = new List<BlockChange>();
        var waiting = new Dictionary<AddressFamily, (string Message, List<string> Nodes)>();
        var unserved = new List<string>();
        var create = new List<NodeSubnet>();
        var update = new List<NodeSubnetUpdate>();
        var podCidrs = new List<PodCidrAssignment>();
        int desired = 0;
        // A block taken is logged; a pool with none left is a condition naming the nodes that wait.
        void Note(AllocationResult result, string node, string waiter)
        {
            if (result.Outcome == AllocationOutcome.Allocated)
                taken.Add(new BlockChange(node, result.Block!.Value));
            else if (result.Outcome == AllocationOutcome.Exhausted)
            {
                if (!waiting.TryGetValue(result.Family, out var entry)) waiting[result.Family] = entry = (result.Message!, []);
                entry.Nodes.Add(waiter);
            }
        }
        foreach (var node in selected)
        {
            var refusal = Refusal(network, node);
            // A node without an InternalIP is waiting for its kubelet, not refused.
            if (refusal is not null && node.InternalAddresses.Count > 0)
                unserved.Add(refusal);
            if (refusal is null)
                foreach (var family in network.Families)
                    Note(ledger.Allocate(name, node.Name, family, avoid), node.Name, node.Name);
            var draining = existing.TryGetValue(NodeSubnet.NameFor(name, node.Name), out var reported)
                ? NodeSubnetPlanner.Draining(reported) : new HashSet<Cidr>();
            if (refusal is null && reported is not null)
            {
                var held = ledger.BlocksOf(name, node.Name).Where(b => !ledger.IsRetiring(b)).ToList();
                var decision = BlockGrowthPlanner.Decide(held, NodeUsageFacts.Parse(reported), policy, cluster.Now, draining);
                foreach (var family in decision.Grow)
                    Note(ledger.AllocateAnother(name, node.Name, family, avoid), node.Name, $"{node.Name} (another block)");
                foreach (var block in decision.Drain)
                {
                    draining.Add(block);
                    drainStarted.Add(new BlockChange(node.Name, block));
                }
                foreach (var block in decision.Undrain)
                {
                    draining.Remove(block);
                    reopened.Add(new BlockChange(node.Name, block));
                }
                foreach (var block in decision.Release)
                {
                    ledger.Retire(name, node.Name, block);
                    retired.Add(new BlockChange(node.Name, block));
                }
                if (decision.RecheckAfter is { } after && (recheck is null || after < recheck)) recheck = after;
            }
            var blocksWanted = ledger.BlocksOf(name, node.Name).Where(b => !ledger.IsRetiring(b)).ToList();
            if (NodeSubnetPlanner.Plan(network, node, blocksWanted, draining) is not { } wanted) continue;
            desired++;
            if (!existing.TryGetValue(wanted.Metadata.Name, out var current)) create.Add(wanted);
            else if (NodeSubnetPlanner.NeedsUpdate(current, wanted)) update.Add(new NodeSubnetUpdate(current, wanted));
            if (cluster.SetNodePodCidrs && !node.HasPodCidrs) podCidrs.Add(new PodCidrAssignment(node, wanted.Spec.Cidrs.ToList()));
        }

        var exhausted = waiting.Select(w => $"{w.Value.Message}; {w.Value.Nodes.Count} node(s) wait for one: " +
            $"{string.Join(", ", w.Value.Nodes.Take(NamedWaitingNodes))}{(w.Value.Nodes.Count > NamedWaitingNodes ? ", ..." : "")}").ToList();
        var observation = new NetworkObservation(verdict, exhausted, ledger.Allocated(name), ledger.Total(name), desired) { Unserved = unserved };
        return new PodNetworkPlan(name, delete, create, update, taken, released, podCidrs, observation, RemovePoolOnceDeleted: false)
        {
            Desired = desired,
            Draining = drainStarted,
            Reopened = reopened,
            Retired = retired,
            RecheckAfter = recheck,
        };
    }

    /// <summary>The network is gone: every NodeSubnet it had goes, and then its pool.</summary>
    public static PodNetworkPlan PlanRemoval(string network, IReadOnlyCollection<NodeSubnet> subnets) =>
        new(network, subnets.Select(s => new NodeSubnetDeletion(s, $"belongs to PodNetwork {network}, which is gone")).ToList(),
            [], [], [], [], [], Status: null, RemovePoolOnceDeleted: true);

    /// <summary>
    /// The network is being deleted (a foreground deletion waits for its NodeSubnets): it is no longer served,
    /// its NodeSubnets go, and blocks return to the pool as their NodeSubnets disappear.
    /// </summary>
    private static PodNetworkPlan PlanTermination(PodNetworkFacts network, IReadOnlyCollection<NodeSubnet> subnets, BlockAllocator ledger)
    {
        var name = network.Name;
        ledger.DefinePool(new PoolDefinition(name, network.Ranges, network.Spec.BlockSize.IPv4, network.Spec.BlockSize.IPv6, Valid: false));
        var stillHeld = subnets.Select(s => s.Spec.NodeName).ToHashSet(StringComparer.Ordinal);
        var released = new List<BlockChange>();
        foreach (var (node, blocks) in ledger.Holdings(name).ToList())
        {
            if (stillHeld.Contains(node)) continue;
            released.AddRange(blocks.Select(block => new BlockChange(node, block)));
            ledger.Release(name, node);
        }
        return new PodNetworkPlan(name, subnets.Select(s => new NodeSubnetDeletion(s, $"belongs to PodNetwork {name}, which is being deleted")).ToList(),
            [], [], [], released, [], Status: null, RemovePoolOnceDeleted: false);
    }

    /// <summary>Why the network gives this node no new block, or null when it may.</summary>
    private static string? Refusal(PodNetworkFacts network, NodeFacts node)
    {
        if (node.InternalAddresses.Count == 0) return $"node {node.Name} has no InternalIP";
        var subnetName = NodeSubnet.NameFor(network.Name, node.Name);
        if (subnetName.Length > LongestObjectName)
            return $"node {node.Name} is not served: its NodeSubnet name {subnetName[..40]}... would be longer than {LongestObjectName} characters";
        foreach (var address in node.Addresses)
            foreach (var range in network.Ranges)
                if (range.Contains(address))
                    return $"node {node.Name} is not served: its address {address} lies inside the range {range}";
        return null;
    }
}
