using Trellis.Addressing;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Trellis.ControllerRuntime.Clients;
using Trellis.ControllerRuntime.Controllers;
using Trellis.ControllerRuntime.Events;
using Trellis.ControllerRuntime.Informers;
using Trellis.ControllerRuntime.Queue;
using Trellis.ControllerRuntime.Updates;
using Trellis.Crds;
using Trellis.Operator.Allocation;
using Trellis.Operator.Hosting;
using Trellis.Operator.Facts;
using Trellis.Operator.Planning;

namespace Trellis.Operator.Controllers;

/// <summary>
/// Everything one leadership term runs: three informers, the allocator rebuilt from the NodeSubnets
/// that exist (so a new leader reassigns nothing), and the PodNetwork controller. A term builds it all
/// from scratch and drops it at the end, so a replica that loses and regains the lease starts clean.
/// </summary>
public sealed class OperatorTerm(ApiClient client, OperatorOptions options, ILoggerFactory loggers, OperatorState state, OperatorMetrics metrics)
{
    private readonly ILogger _logger = loggers.CreateLogger<OperatorTerm>();

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var nodes = new Informer<V1Node>(ResourceClients.Nodes(client), logger: loggers.CreateLogger("Trellis.Operator.Informers.Nodes"));
        var networks = new Informer<PodNetwork>(ResourceClients.ClusterCustom<PodNetwork>(client),
            logger: loggers.CreateLogger("Trellis.Operator.Informers.PodNetworks"));
        var subnets = new Informer<NodeSubnet>(ResourceClients.ClusterCustom<NodeSubnet>(client),
            logger: loggers.CreateLogger("Trellis.Operator.Informers.NodeSubnets"));
        var view = new InformerCaches(nodes, networks, subnets);
        using var queue = new WorkQueue<string>();
        Connect(view, queue);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var informers = new[] { nodes.RunAsync(stop.Token), networks.RunAsync(stop.Token), subnets.RunAsync(stop.Token) };
        try
        {
            await Task.WhenAll(nodes.WaitForSyncAsync(cancellationToken), networks.WaitForSyncAsync(cancellationToken),
                subnets.WaitForSyncAsync(cancellationToken)).ConfigureAwait(false);
            var allocator = new SharedAllocator(Restore(subnets.List()));
            var reconciler = new PodNetworkReconciler(view, allocator, new ClusterWriter(client),
                new EventRecorder(client, "trellis-operator", options.Identity, logger: loggers.CreateLogger<EventRecorder>()),
                options, loggers.CreateLogger<PodNetworkReconciler>(), metrics);
            EnqueueAll(view, queue);
            using var resync = new Timer(_ => EnqueueAll(view, queue), null, options.ResyncPeriod, options.ResyncPeriod);
            var controller = new Controller<string>(queue, metrics.Measure("podnetworks", reconciler), new ControllerOptions { Name = "podnetworks", Workers = options.Workers },
                loggers.CreateLogger<Controller<string>>());
            state.Synced = true;
            _logger.LogInformation("operator {Identity}: caches synced ({Nodes} nodes, {Networks} PodNetworks, {Subnets} NodeSubnets); reconciling",
                options.Identity, nodes.Count, networks.Count, subnets.Count);
            await controller.RunAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            state.Synced = false;
            stop.Cancel();
            await Task.WhenAll(informers).ConfigureAwait(false);
        }
    }

    /// <summary>Honours every existing NodeSubnet's blocks, oldest first, so that of two that collide the older keeps its block.</summary>
    private BlockAllocator Restore(IReadOnlyList<NodeSubnet> subnets)
    {
        var allocator = new BlockAllocator();
        foreach (var subnet in subnets.OrderBy(s => s.Metadata.CreationTimestamp ?? DateTime.MaxValue).ThenBy(s => s.Metadata.Name, StringComparer.Ordinal))
        {
            var network = NodeSubnetPlanner.NetworkOf(subnet);
            if (network is null) continue;
            foreach (var text in subnet.Spec.Cidrs)
            {
                if (!Cidr.TryParse(text, out var block, out var error))
                {
                    _logger.LogWarning("NodeSubnet {NodeSubnet}: block \"{Block}\" cannot be honoured: {Error}", subnet.Metadata.Name, text, error);
                    continue;
                }
                var result = allocator.Restore(network, subnet.Spec.NodeName, block);
                if (!result.Succeeded)
                    _logger.LogWarning("NodeSubnet {NodeSubnet}: {Message}", subnet.Metadata.Name, result.Message);
            }
        }
        return allocator;
    }

    private static void EnqueueAll(InformerCaches view, WorkQueue<string> queue)
    {
        foreach (var network in view.Networks.List()) queue.Add(network.Metadata.Name);
        foreach (var subnet in view.Subnets.List())
            if (NodeSubnetPlanner.NetworkOf(subnet) is { } name) queue.Add(name);
    }

    /// <summary>Turns informer events into PodNetwork keys; the queue merges repeats, so a burst of node events is a few reconciles.</summary>
    private static void Connect(InformerCaches view, WorkQueue<string> queue)
    {
        // A node's labels matter to the networks that select it (before or after); its addresses matter to every
        // network, since no range may hold any node's address and no block is handed out over one.
        void NodeChanged(V1Node? before, V1Node after)
        {
            bool everyNetwork = before is null || AddressesDiffer(NodeFacts.Parse(before), NodeFacts.Parse(after));
            if (!everyNetwork && !NodeMatters(before!, after)) return;
            foreach (var network in view.Networks.List())
                if (everyNetwork || LabelSelectorMatch.Matches(network.Spec.NodeSelector, after.Metadata.Labels) ||
                    LabelSelectorMatch.Matches(network.Spec.NodeSelector, before!.Metadata.Labels))
                    queue.Add(network.Metadata.Name);
        }
        view.Nodes.Added += node => NodeChanged(null, node);
        view.Nodes.Updated += NodeChanged;
        view.Nodes.Deleted += node => NodeChanged(null, node);

        // Any spec change may change another network's validity (overlap is decided between networks).
        void NetworkChanged(PodNetwork? before, PodNetwork after)
        {
            if (before is not null && before.Metadata.Generation == after.Metadata.Generation && before.Metadata.Generation is not null &&
                before.Metadata.DeletionTimestamp == after.Metadata.DeletionTimestamp && SpecComparison.Same(before.Spec, after.Spec))
                return;
            queue.Add(after.Metadata.Name);
            foreach (var network in view.Networks.List()) queue.Add(network.Metadata.Name);
        }
        view.Networks.Added += network => NetworkChanged(null, network);
        view.Networks.Updated += NetworkChanged;
        view.Networks.Deleted += network => NetworkChanged(null, network);

        // The agent's usage report decides growth and release, so a change of it matters as much as one of the spec.
        void SubnetChanged(NodeSubnet? before, NodeSubnet after, bool deleted)
        {
            if (before is not null && SpecComparison.Same(before.Spec, after.Spec) && !UsageDiffers(before, after) &&
                NodeSubnetPlanner.NetworkOf(before) == NodeSubnetPlanner.NetworkOf(after) && before.Metadata.DeletionTimestamp == after.Metadata.DeletionTimestamp)
                return;
            if (NodeSubnetPlanner.NetworkOf(after) is { } name) queue.Add(name);
        }
        view.Subnets.Added += subnet => SubnetChanged(null, subnet, false);
        view.Subnets.Updated += (before, after) => SubnetChanged(before, after, false);
        view.Subnets.Deleted += subnet => SubnetChanged(null, subnet, true);
    }

    private static bool UsageDiffers(NodeSubnet before, NodeSubnet after) =>
        before.Status?.ObservedGeneration != after.Status?.ObservedGeneration ||
        ApiJson.Serialize(before.Status?.Blocks ?? []) != ApiJson.Serialize(after.Status?.Blocks ?? []);

    private static bool AddressesDiffer(NodeFacts before, NodeFacts after) =>
        !before.Addresses.SequenceEqual(after.Addresses) || !before.InternalAddresses.SequenceEqual(after.InternalAddresses);

    private static bool NodeMatters(V1Node before, V1Node after) =>
        !LabelsEqual(before.Metadata.Labels, after.Metadata.Labels) || before.Spec?.PodCIDR != after.Spec?.PodCIDR;

    private static bool LabelsEqual(IDictionary<string, string>? a, IDictionary<string, string>? b)
    {
        a ??= new Dictionary<string, string>();
        b ??= new Dictionary<string, string>();
        return a.Count == b.Count && a.All(pair => b.TryGetValue(pair.Key, out var value) && value == pair.Value);
    }
}
