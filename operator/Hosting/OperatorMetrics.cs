using Prometheus;
using Trellis.ControllerRuntime.Controllers;
using Trellis.ControllerRuntime.Metrics;

namespace Trellis.Operator.Hosting;

/// <summary>
/// The operator's metric families, in one registry per <see cref="TrellisOperator"/> (no process-wide state, so
/// tests can run replicas side by side), served on the health port's /metrics: reconciles (duration, errors),
/// blocks allocated and free per PodNetwork, API writes and the process itself.
/// </summary>
public sealed class OperatorMetrics
{
    private readonly Histogram _reconcileDuration;
    private readonly Counter _reconcileErrors;
    private readonly Gauge _blocksAllocated;
    private readonly Gauge _blocksFree;
    private readonly Gauge _nodesServed;

    public OperatorMetrics()
    {
        Registry = Prometheus.Metrics.NewCustomRegistry();
        DotNetStats.Register(Registry);
        var factory = Prometheus.Metrics.WithCustomRegistry(Registry);
        ApiWrites = ApiWriteCounting.Create(factory);
        _reconcileDuration = factory.CreateHistogram("trellis_operator_reconcile_duration_seconds", "How long one reconcile took, by controller.",
            new HistogramConfiguration { LabelNames = ["controller"], Buckets = Histogram.ExponentialBuckets(0.0005, 2, 18) });
        _reconcileErrors = factory.CreateCounter("trellis_operator_reconcile_errors_total", "Reconciles that failed and were retried with backoff, by controller.",
            new CounterConfiguration { LabelNames = ["controller"] });
        _blocksAllocated = factory.CreateGauge("trellis_operator_blocks_allocated", "Blocks handed to nodes, per PodNetwork.", new GaugeConfiguration { LabelNames = ["pod_network"] });
        _blocksFree = factory.CreateGauge("trellis_operator_blocks_free", "Blocks still free in the PodNetwork's ranges.", new GaugeConfiguration { LabelNames = ["pod_network"] });
        _nodesServed = factory.CreateGauge("trellis_operator_nodes_served", "Nodes holding a block of the PodNetwork.", new GaugeConfiguration { LabelNames = ["pod_network"] });
    }

    public CollectorRegistry Registry { get; }

    /// <summary>Put on the operator's Kubernetes client (<see cref="ApiWriteCounting"/>).</summary>
    public Counter ApiWrites { get; }

    public void RecordBlocks(string network, long allocated, long total, int nodes)
    {
        _blocksAllocated.WithLabels(network).Set(allocated);
        _blocksFree.WithLabels(network).Set(Math.Max(0, total - allocated));
        _nodesServed.WithLabels(network).Set(nodes);
    }

    public void ForgetNetwork(string network)
    {
        foreach (var gauge in new[] { _blocksAllocated, _blocksFree, _nodesServed }) gauge.RemoveLabelled(network);
    }

    /// <summary>Wraps a reconciler so each reconcile is timed and each failure counted under <paramref name="controller"/>.</summary>
    public IReconciler<TKey> Measure<TKey>(string controller, IReconciler<TKey> inner) where TKey : notnull =>
        new MeasuredReconciler<TKey>(inner, _reconcileDuration.WithLabels(controller), _reconcileErrors.WithLabels(controller));

    private sealed class MeasuredReconciler<TKey>(IReconciler<TKey> inner, Histogram.Child duration, Counter.Child errors) : IReconciler<TKey> where TKey : notnull
    {
        public async Task<ReconcileResult> ReconcileAsync(TKey key, CancellationToken cancellationToken)
        {
            using var timer = duration.NewTimer();
            try
            {
                return await inner.ReconcileAsync(key, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                errors.Inc();
                throw;
            }
        }
    }
}
