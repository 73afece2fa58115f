using Prometheus;
using Trellis.Bgp.Session;
using Trellis.ControllerRuntime.Metrics;
using Trellis.NodeAgent.Reconciling;

namespace Trellis.NodeAgent.Observability;

/// <summary>
/// The agent's metric families, in one registry of its own (no process-wide state, so tests and the local cluster
/// can run several agents in one process): its passes, what they programmed, IPAM use, reclaims, BGP sessions, API
/// writes and the process itself. NetworkPolicy's families join the same registry (<see cref="NetworkPolicy.PolicyMetrics"/>).
/// </summary>
public sealed class AgentMetrics
{
    private static readonly SessionState[] States = Enum.GetValues<SessionState>();

    private readonly Histogram _passDuration;
    private readonly Counter _passErrors;
    private readonly Counter _kernelErrors;
    private readonly Gauge _routes;
    private readonly Gauge _neighbors;
    private readonly Gauge _fdb;
    private readonly Gauge _peers;
    private readonly Gauge _programmed;
    private readonly Gauge _lastPass;
    private readonly Gauge _addressesInUse;
    private readonly Gauge _addressCapacity;
    private readonly Counter _reclaimed;
    private readonly Gauge _bgpState;
    private readonly Gauge _bgpUp;

    public AgentMetrics(string node)
    {
        Registry = Prometheus.Metrics.NewCustomRegistry();
        Registry.SetStaticLabels(new Dictionary<string, string> { ["node"] = node });
        DotNetStats.Register(Registry);
        Factory = Prometheus.Metrics.WithCustomRegistry(Registry);
        ApiWrites = ApiWriteCounting.Create(Factory);
        _passDuration = Factory.CreateHistogram("trellis_agent_reconcile_duration_seconds",
            "How long one pass of the agent's loop took (facts, plan, kernel, files), by kind (full or incremental).",
            new HistogramConfiguration { LabelNames = ["kind"], Buckets = Histogram.ExponentialBuckets(0.0005, 2, 16) });
        _passErrors = Factory.CreateCounter("trellis_agent_reconcile_errors_total",
            "Passes that did not program the node, by the reason their Programmed condition gives.", new CounterConfiguration { LabelNames = ["reason"] });
        _kernelErrors = Factory.CreateCounter("trellis_agent_kernel_errors_total", "Kernel (netlink) operations that failed during passes.");
        _routes = Factory.CreateGauge("trellis_agent_routes_programmed", "Routes to peers' blocks the last successful kernel step holds.");
        _neighbors = Factory.CreateGauge("trellis_agent_neighbors_programmed", "VXLAN neighbour (ARP/NDP) entries the last successful kernel step holds.");
        _fdb = Factory.CreateGauge("trellis_agent_fdb_entries_programmed", "VXLAN forwarding database entries the last successful kernel step holds.");
        _peers = Factory.CreateGauge("trellis_agent_peers_routed", "Peer nodes routed, per PodNetwork.", new GaugeConfiguration { LabelNames = ["pod_network"] });
        _programmed = Factory.CreateGauge("trellis_agent_programmed", "1 when the last pass programmed the node (what /readyz answers).");
        _lastPass = Factory.CreateGauge("trellis_agent_last_pass_timestamp_seconds", "When the last pass finished (Unix time).");
        _addressesInUse = Factory.CreateGauge("trellis_agent_ipam_addresses_in_use", "Pod addresses allocated on this node, per NodeSubnet.",
            new GaugeConfiguration { LabelNames = ["node_subnet", "pod_network"] });
        _addressCapacity = Factory.CreateGauge("trellis_agent_ipam_address_capacity", "Pod addresses this node's blocks hold, per NodeSubnet.",
            new GaugeConfiguration { LabelNames = ["node_subnet", "pod_network"] });
        _reclaimed = Factory.CreateCounter("trellis_agent_addresses_reclaimed_total", "Addresses of pods that are gone which the agent freed (leaks reclaimed).");
        _bgpState = Factory.CreateGauge("trellis_agent_bgp_session_state", "1 for each BGP peer's current session state, 0 for the others.",
            new GaugeConfiguration { LabelNames = ["peer", "state"] });
        _bgpUp = Factory.CreateGauge("trellis_agent_bgp_sessions_established", "BGP sessions Established.");
        _bgpUp.Set(0);
        // Every reason a pass can fail for is a series from the start: an alert on a rate needs the zero before the first failure.
        foreach (var reason in new[] { ReconcileOutcome.ReasonNoNodeSubnet, ReconcileOutcome.ReasonInvalidSpec, ReconcileOutcome.ReasonUnderlayNotFound,
                     ReconcileOutcome.ReasonPeersSkipped, ReconcileOutcome.ReasonUnsafeBlock, ReconcileOutcome.ReasonKernelError, ReconcileOutcome.ReasonCniError })
            _passErrors.WithLabels(reason);
    }

    public CollectorRegistry Registry { get; }

    public IMetricFactory Factory { get; }

    /// <summary>Put on the agent's Kubernetes client (<see cref="ApiWriteCounting"/>).</summary>
    public Counter ApiWrites { get; }

    public void RecordPass(PassResult result, int kernelErrors, bool full, TimeSpan took, DateTimeOffset finished)
    {
        _passDuration.WithLabels(full ? "full" : "incremental").Observe(took.TotalSeconds);
        _lastPass.Set(finished.ToUnixTimeMilliseconds() / 1000.0);
        _programmed.Set(result.Outcome.Programmed ? 1 : 0);
        if (!result.Outcome.Programmed) _passErrors.WithLabels(result.Outcome.Reason).Inc();
        _kernelErrors.Inc(kernelErrors);
        if (result.Plan is not { } plan) return;
        foreach (var (network, peers) in plan.PeersRoutedByNetwork) _peers.WithLabels(network).Set(peers);
        foreach (var stale in _peers.GetAllLabelValues().Where(l => !plan.PeersRoutedByNetwork.ContainsKey(l[0])).ToList()) _peers.RemoveLabelled(stale);
        if (kernelErrors > 0) return;
        _routes.Set(plan.Routes.Count);
        _neighbors.Set(plan.Neighbors.Count);
        _fdb.Set(plan.Fdb.Count);
    }

    /// <summary>IPAM use of the node's own NodeSubnets, as their status reports it; subnets no longer the node's are dropped.</summary>
    public void RecordIpam(IReadOnlyList<(string Subnet, string Network, int InUse, long Capacity)> subnets)
    {
        foreach (var (subnet, network, inUse, capacity) in subnets)
        {
            _addressesInUse.WithLabels(subnet, network).Set(inUse);
            _addressCapacity.WithLabels(subnet, network).Set(capacity);
        }
        foreach (var gauge in new[] { _addressesInUse, _addressCapacity })
            foreach (var stale in gauge.GetAllLabelValues().Where(l => !subnets.Any(s => s.Subnet == l[0] && s.Network == l[1])).ToList())
                gauge.RemoveLabelled(stale);
    }

    public void RecordReclaimed(int addresses) => _reclaimed.Inc(addresses);

    public void RecordBgpSessions(IReadOnlyList<(string Peer, SessionState State)> sessions)
    {
        foreach (var stale in _bgpState.GetAllLabelValues().Where(l => !sessions.Any(s => s.Peer == l[0])).ToList()) _bgpState.RemoveLabelled(stale);
        foreach (var (peer, state) in sessions)
            foreach (var each in States)
                _bgpState.WithLabels(peer, each.ToString()).Set(each == state ? 1 : 0);
        _bgpUp.Set(sessions.Count(s => s.State == SessionState.Established));
    }
}
