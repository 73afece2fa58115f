using Trellis.NetworkPolicy.Applying;
using Trellis.NetworkPolicy.Compiling;
using Trellis.NetworkPolicy.Ruleset;

namespace Trellis.Local.Connectivity;

/// <summary>
/// Names the NetworkPolicies that dropped a probe: each agent counts the drops of every policy in
/// its node's nftables table (the counters behind its /metrics), so the counters that rose on the
/// source's and destination's nodes while the probe ran say who denied it.
/// </summary>
public static class PolicyDrops
{
    /// <summary>The drop counters of the policy table in a node's namespace; none when the node has no table.</summary>
    public static IReadOnlyDictionary<string, CounterValue> Read(string nodeNamespace) =>
        new PolicyTableWriter(new NftCommand(["ip", "netns", "exec", nodeNamespace, "nft"])).ReadCounters(ObjectNames.Table);

    /// <summary>"NetworkPolicy x/deny (ingress) on node1" for each counter that rose between the two readings.</summary>
    public static IReadOnlyList<string> Rose(string node, IReadOnlyDictionary<string, CounterValue> before, IReadOnlyDictionary<string, CounterValue> after) =>
        after.Where(c => c.Value.Packets > before.GetValueOrDefault(c.Key).Packets)
            .Select(c => $"{Describe(c.Key)} on {node}")
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>A counter's policy and direction from its name ("drop.in.x/deny" → "NetworkPolicy x/deny (ingress)").</summary>
    public static string Describe(string counter)
    {
        var parts = counter.Split('.', 3);
        if (parts.Length != 3 || parts[0] != "drop") return counter;
        var direction = parts[1] == ObjectNames.Prefix(PolicyDirection.Ingress) ? "ingress" : "egress";
        return parts[2].Contains('/')
            ? $"NetworkPolicy {parts[2]} ({direction})"
            : $"the NetworkPolicy behind counter {counter} ({direction}; its comment in `nft list counters` names it)";
    }
}
