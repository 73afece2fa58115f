using System.Globalization;
using System.Text;
using Trellis.NetworkPolicy.Compiling;
using Trellis.NetworkPolicy.Ruleset;

namespace Trellis.NodeAgent.NetworkPolicy;

/// <summary>
/// The policy table in the Prometheus text format: per policy and direction, the packets and bytes
/// it isolated and no policy allowed (its drop counter), so a person can see which policy denied
/// what; and the table's size, age and cost.
/// </summary>
public static class PolicyMetrics
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static string Render(string node, PolicyEnforcement? enforcement, IReadOnlyDictionary<string, CounterValue> counters)
    {
        var text = new StringBuilder();
        if (enforcement is null)
        {
            Gauge(text, "trellis_networkpolicy_enforcing", "1 once the node's policy table has been written from synced caches.", [($"node=\"{Escape(node)}\"", 0)]);
            return text.ToString();
        }
        var compiled = enforcement.Compiled;
        var drops = compiled.Counters.Select(c => (c, counters.GetValueOrDefault(c.Counter))).ToList();
        string Labels(PolicyCounter c) =>
            $"node=\"{Escape(node)}\",namespace=\"{Escape(c.PolicyNamespace)}\",policy=\"{Escape(c.PolicyName)}\",direction=\"{c.Direction.ToString().ToLowerInvariant()}\"";
        Counter(text, "trellis_networkpolicy_dropped_packets_total",
            "Packets of pods this policy isolates (in this direction) that no policy allowed, dropped on this node.",
            drops.Select(d => (Labels(d.c), (double)d.Item2.Packets)));
        Counter(text, "trellis_networkpolicy_dropped_bytes_total",
            "Bytes of those packets.", drops.Select(d => (Labels(d.c), (double)d.Item2.Bytes)));
        var nodeLabel = $"node=\"{Escape(node)}\"";
        Gauge(text, "trellis_networkpolicy_enforcing", "1 once the node's policy table has been written from synced caches.", [(nodeLabel, 1)]);
        Gauge(text, "trellis_networkpolicy_rules", "Rules in the node's policy table.", [(nodeLabel, compiled.Table.RuleCount)]);
        Gauge(text, "trellis_networkpolicy_set_elements", "Set and map elements in the node's policy table.", [(nodeLabel, compiled.Table.ElementCount)]);
        Gauge(text, "trellis_networkpolicy_problems", "Policies, rules and pods the agent could not take as written (see its log).", [(nodeLabel, compiled.Problems.Count)]);
        Gauge(text, "trellis_networkpolicy_bridge_filtered", "1 when bridged (same-node) traffic meets the table (br_netfilter on).", [(nodeLabel, enforcement.BridgeProblem is null ? 1 : 0)]);
        Gauge(text, "trellis_networkpolicy_last_write_timestamp_seconds", "When the table was last compiled and written.", [(nodeLabel, enforcement.At.ToUnixTimeMilliseconds() / 1000.0)]);
        Gauge(text, "trellis_networkpolicy_last_compile_seconds", "How long the last compile took.", [(nodeLabel, enforcement.CompileMilliseconds / 1000)]);
        Gauge(text, "trellis_networkpolicy_last_write_seconds", "How long the last write to the kernel took.", [(nodeLabel, enforcement.WriteMilliseconds / 1000)]);
        return text.ToString();
    }

    private static void Counter(StringBuilder text, string name, string help, IEnumerable<(string Labels, double Value)> samples) =>
        Family(text, name, "counter", help, samples);

    private static void Gauge(StringBuilder text, string name, string help, IEnumerable<(string Labels, double Value)> samples) =>
        Family(text, name, "gauge", help, samples);

    private static void Family(StringBuilder text, string name, string type, string help, IEnumerable<(string Labels, double Value)> samples)
    {
        text.Append($"# HELP {name} {help}\n# TYPE {name} {type}\n");
        foreach (var (labels, value) in samples)
            text.Append(name).Append('{').Append(labels).Append("} ").Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
    }

    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
