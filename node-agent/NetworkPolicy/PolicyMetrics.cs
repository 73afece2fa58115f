using Prometheus;
using Trellis.NetworkPolicy.Compiling;
using Trellis.NetworkPolicy.Ruleset;

namespace Trellis.NodeAgent.NetworkPolicy;

/// <summary>
/// The policy table's metric families: per policy and direction, the packets and bytes it isolated and no policy
/// allowed (its drop counter), so a person can see which policy denied what; and the table's size, age and cost.
/// <see cref="Update"/> runs before each scrape, with the drop counters just read from the kernel.
/// </summary>
public sealed class PolicyMetrics
{
    private static readonly string[] CounterLabels = ["namespace", "policy", "direction"];

    private readonly Counter _droppedPackets;
    private readonly Counter _droppedBytes;
    private readonly Gauge _enforcing;
    private readonly Gauge _rules;
    private readonly Gauge _elements;
    private readonly Gauge _problems;
    private readonly Gauge _bridgeFiltered;
    private readonly Gauge _lastWrite;
    private readonly Gauge _compileSeconds;
    private readonly Gauge _writeSeconds;

    public PolicyMetrics(IMetricFactory factory)
    {
        _droppedPackets = factory.CreateCounter("trellis_networkpolicy_dropped_packets_total",
            "Packets of pods this policy isolates (in this direction) that no policy allowed, dropped on this node.", new CounterConfiguration { LabelNames = CounterLabels });
        _droppedBytes = factory.CreateCounter("trellis_networkpolicy_dropped_bytes_total", "Bytes of those packets.", new CounterConfiguration { LabelNames = CounterLabels });
        _enforcing = factory.CreateGauge("trellis_networkpolicy_enforcing", "1 once the node's policy table has been written from synced caches.");
        _rules = factory.CreateGauge("trellis_networkpolicy_rules", "Rules in the node's policy table.");
        _elements = factory.CreateGauge("trellis_networkpolicy_set_elements", "Set and map elements in the node's policy table.");
        _problems = factory.CreateGauge("trellis_networkpolicy_problems", "Policies, rules and pods the agent could not take as written (see its log).");
        _bridgeFiltered = factory.CreateGauge("trellis_networkpolicy_bridge_filtered", "1 when bridged (same-node) traffic meets the table (br_netfilter on).");
        _lastWrite = factory.CreateGauge("trellis_networkpolicy_last_write_timestamp_seconds", "When the table was last compiled and written.");
        _compileSeconds = factory.CreateGauge("trellis_networkpolicy_last_compile_seconds", "How long the last compile took.");
        _writeSeconds = factory.CreateGauge("trellis_networkpolicy_last_write_seconds", "How long the last write to the kernel took.");
        _enforcing.Set(0);
    }

    public void Update(PolicyEnforcement? enforcement, IReadOnlyDictionary<string, CounterValue> counters)
    {
        if (enforcement is null)
        {
            _enforcing.Set(0);
            return;
        }
        var compiled = enforcement.Compiled;
        var present = new HashSet<(string, string, string)>();
        foreach (var counter in compiled.Counters)
        {
            var labels = new[] { counter.PolicyNamespace, counter.PolicyName, counter.Direction.ToString().ToLowerInvariant() };
            present.Add((labels[0], labels[1], labels[2]));
            var value = counters.GetValueOrDefault(counter.Counter);
            Set(_droppedPackets, labels, value.Packets);
            Set(_droppedBytes, labels, value.Bytes);
        }
        foreach (var family in new[] { _droppedPackets, _droppedBytes })
            foreach (var stale in family.GetAllLabelValues().Where(l => !present.Contains((l[0], l[1], l[2]))).ToList())
                family.RemoveLabelled(stale);
        _enforcing.Set(1);
        _rules.Set(compiled.Table.RuleCount);
        _elements.Set(compiled.Table.ElementCount);
        _problems.Set(compiled.Problems.Count);
        _bridgeFiltered.Set(enforcement.BridgeProblem is null ? 1 : 0);
        _lastWrite.Set(enforcement.At.ToUnixTimeMilliseconds() / 1000.0);
        _compileSeconds.Set(enforcement.CompileMilliseconds / 1000);
        _writeSeconds.Set(enforcement.WriteMilliseconds / 1000);
    }

    /// <summary>The kernel's counters start again at zero when the table is replaced: the series starts again too, which Prometheus reads as a counter reset.</summary>
    private static void Set(Counter family, string[] labels, double value)
    {
        var child = family.WithLabels(labels);
        if (value < child.Value)
        {
            family.RemoveLabelled(labels);
            child = family.WithLabels(labels);
        }
        child.IncTo(value);
    }
}
