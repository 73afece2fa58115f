using Microsoft.Extensions.Logging;
using Trellis.Crds;
using Trellis.NodeAgent.Cni;
using Trellis.NodeAgent.Kernel;
using Trellis.NodeAgent.Planning;
using Trellis.NodeAgent.Reconciling;

namespace Trellis.NodeAgent;

/// <summary>A status the agent wants on one of its own NodeSubnets (whose blocks are <paramref name="Blocks"/>), built against the status it has now.</summary>
public sealed record StatusUpdate(string SubnetName, string PodNetwork, IReadOnlyList<Block> Blocks, Func<NodeSubnetStatus?, NodeSubnetStatus> Build);

/// <summary>What one pass did: the plan (when one could be made), how it went, the statuses to write and the blocks it refused.</summary>
public sealed record PassResult(NodePlan? Plan, ReconcileOutcome Outcome, IReadOnlyList<StatusUpdate> Statuses)
{
    /// <summary>Kernel operations of the pass that failed (each also in the outcome's message).</summary>
    public int KernelErrors { get; init; }

    public IReadOnlyList<BlockRefusal> Refusals => Plan?.Refusals ?? [];
}

/// <summary>
/// One pass of the agent's loop: facts from the NodeSubnets and the kernel, a pure plan, the difference
/// applied (kindnet's routes.go, in one place). Not thread-safe: the service runs one pass at a time.
/// </summary>
public sealed class NodeReconciler(
    string nodeName,
    AgentSettings settings,
    NodeKernel kernel,
    NftablesRunner nftables,
    ConflistWriter conflist,
    PluginInstaller plugin,
    ILogger logger)
{
    private bool _pluginInstalled;

    /// <param name="subnets">Every NodeSubnet, as the agent caches them (parsed for this node: <see cref="CachedSubnet.Of"/>).</param>
    public PassResult Reconcile(IReadOnlyCollection<CachedSubnet> subnets, bool full)
    {
        if (!OwnAndPeerSubnets.TryBuild(nodeName, subnets, out var view, out var specError))
        {
            logger.LogError("{Problem}; nothing changed", specError);
            var failed = new ReconcileOutcome(false, ReconcileOutcome.ReasonInvalidSpec, specError);
            return new PassResult(null, failed, StatusesForUnparsed(subnets.Where(s => s.Own && !s.Deleting), failed));
        }
        if (view.Own.Count == 0)
        {
            logger.LogInformation("node {Node} has no NodeSubnet yet; waiting", nodeName);
            return new PassResult(null, new ReconcileOutcome(false, ReconcileOutcome.ReasonNoNodeSubnet, $"node {nodeName} has no NodeSubnet"), []);
        }

        NodeNetworkFacts network;
        try
        {
            network = kernel.ReadNodeNetwork(nodeName, view.Own.SelectMany(s => s.NodeAddresses).Distinct().ToList(), full);
        }
        catch (Exception e) when (e is UnderlayNotFoundException or Trellis.Netlink.NetlinkException)
        {
            logger.LogError("{Problem}; nothing changed", e.Message);
            var failed = new ReconcileOutcome(false, ReconcileOutcome.ReasonUnderlayNotFound, e.Message);
            return new PassResult(null, failed, Statuses(view, failed, null, drainingClosed: false));
        }

        var guard = ProtectedSpace.Of(network.HostAddresses.Where(a => !settings.IsOwnDevice(a.Link)), network.DefaultGateways, settings.ApiServer);
        var plan = NodePlanner.Plan(view, network.Underlay, guard, settings);
        foreach (var refusal in plan.Refusals.Where(r => r.Own)) logger.LogWarning("{Problem}", refusal.Message);
        foreach (var problem in plan.Problems) logger.LogWarning("{Problem}", problem);
        var kernelProblems = kernel.Apply(plan, full);

        var fileProblems = new List<string>();
        try
        {
            nftables.Apply(MasqueradeRuleset.Render(plan.Masquerade), force: full);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or IOException)
        {
            fileProblems.Add(e.Message);
        }
        // Closed before the conflist drops them and before usage is counted: "drained" is only ever said of a block closed first.
        bool drainingClosed = false;
        try
        {
            IpamUsage.CloseDraining(settings.IpamDataDirectory, view.Own.SelectMany(s => s.Blocks).ToList());
            drainingClosed = true;
        }
        catch (IOException e)
        {
            fileProblems.Add(e.Message);
        }
        try
        {
            if (conflist.Write(plan.Cni)) logger.LogInformation("wrote {Path} (MTU {Mtu})", conflist.PathName, plan.Cni.Mtu);
            if (full || !_pluginInstalled)
            {
                if (plugin.Install()) logger.LogInformation("installed {Plugin}", plugin.Target);
                _pluginInstalled = true;
            }
        }
        catch (IOException e)
        {
            fileProblems.Add(e.Message);
        }

        ReconcileOutcome outcome;
        if (kernelProblems.Count > 0)
            outcome = new ReconcileOutcome(false, ReconcileOutcome.ReasonKernelError, Summarize(kernelProblems.Concat(fileProblems)));
        else if (fileProblems.Count > 0)
            outcome = new ReconcileOutcome(false, ReconcileOutcome.ReasonCniError, Summarize(fileProblems));
        else if (plan.Problems.Count > 0)
            outcome = new ReconcileOutcome(false, ReconcileOutcome.ReasonPeersSkipped, Summarize(plan.Problems));
        else
            outcome = new ReconcileOutcome(true, ReconcileOutcome.ReasonProgrammed,
                $"bridge {plan.Bridge.Name}, MTU {plan.PodMtu}, {plan.Routes.Count} routes to {plan.PeersRoutedByNetwork.Values.DefaultIfEmpty().Max()} peers");
        return new PassResult(plan, outcome, Statuses(view, outcome, plan, drainingClosed)) { KernelErrors = kernelProblems.Count };
    }

    /// <summary>Each own NodeSubnet reports the pass's outcome, or the blocks of its own that were refused.</summary>
    /// <param name="drainingClosed">The draining blocks were closed in the store this pass: only then may a block be reported drained.</param>
    private IReadOnlyList<StatusUpdate> Statuses(OwnAndPeerSubnets view, ReconcileOutcome outcome, NodePlan? plan, bool drainingClosed) =>
        view.Own.Select(own =>
        {
            int peers = plan?.PeersRoutedByNetwork.GetValueOrDefault(own.PodNetwork) ?? 0;
            var inUse = IpamUsage.InUseByBlock(settings.IpamDataDirectory, own.Blocks);
            var refused = plan?.Refusals.Where(r => r.Own && r.Subnet == own.Name).Select(r => r.Message).ToList() ?? [];
            var mine = refused.Count > 0 ? new ReconcileOutcome(false, ReconcileOutcome.ReasonUnsafeBlock, Summarize(refused)) : outcome;
            return new StatusUpdate(own.Name, own.PodNetwork, own.Blocks, current => StatusReport.Build(own, mine, peers, inUse, current, DateTime.UtcNow, drainingClosed));
        }).ToList();

    /// <summary>An own NodeSubnet that does not parse still gets its Programmed=False, naming the fault.</summary>
    private static IReadOnlyList<StatusUpdate> StatusesForUnparsed(IEnumerable<CachedSubnet> own, ReconcileOutcome outcome) =>
        own.Select(cached => cached.Object!).Select(s =>
        {
            var facts = new SubnetFacts(s.Metadata.Name, s.Spec.NodeName, s.Spec.PodNetwork ?? "", s.Metadata.Generation ?? 0,
                [], [], [], new RoutingPolicy(RoutingModes.Direct, 1, 1), 0, false);
            return new StatusUpdate(s.Metadata.Name, s.Spec.PodNetwork ?? "", [], current => StatusReport.Build(facts, outcome, 0, [], current, DateTime.UtcNow));
        }).ToList();

    private static string Summarize(IEnumerable<string> problems)
    {
        var list = problems.ToList();
        var text = string.Join("; ", list.Take(5));
        return list.Count > 5 ? $"{text}; and {list.Count - 5} more" : text;
    }
}
