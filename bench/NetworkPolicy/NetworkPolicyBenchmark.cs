using System.Diagnostics;
using Trellis.NetworkPolicy.Applying;
using Trellis.NetworkPolicy.Compiling;
using Trellis.NetworkPolicy.Facts;
using Trellis.NetworkPolicy.Ruleset;
using Trellis.Testing;

namespace Trellis.Bench.NetworkPolicy;

/// <summary>
/// Enforcement latency in a running local cluster (<see cref="EnforcementLatency"/>), then the policy compiler and the kernel at 1,000 policies over 5,000 pods, for a node with 100 of
/// them (<see cref="PolicyWorkload"/>): compile time, the table's size, the time nft takes to
/// replace it in a fresh namespace, and pod churn applied as element changes beside the same
/// change applied as a whole replacement (the question: does incremental apply matter?). The rule
/// count stands beside the rules a per-pod scheme (a chain per pod holding each selecting
/// policy's rules, as iptables-based enforcers do) would need for the same node.
/// </summary>
public static class NetworkPolicyBenchmark
{
    private const int Rounds = 5;

    public static async Task<int> RunAsync(string[] args, string resultsDirectory)
    {
        var latency = await EnforcementLatency.MeasureAsync(Rounds);
        var workload = PolicyWorkload.Build();
        var compileTimes = new List<double>();
        CompiledPolicies compiled = null!;
        for (int round = 0; round < Rounds; round++)
        {
            var watch = Stopwatch.StartNew();
            compiled = PolicyCompiler.Compile(PolicyInputs.Parse(workload.Policies, workload.Namespaces, workload.Pods), PolicyWorkload.Node);
            compileTimes.Add(watch.Elapsed.TotalMilliseconds);
        }
        var table = compiled.Table;
        var renderWatch = Stopwatch.StartNew();
        var script = PolicyTableScript.Replace(table);
        double renderMs = renderWatch.Elapsed.TotalMilliseconds;
        Console.WriteLine($"compiled: {table.RuleCount} rules, {table.Chains.Count} chains, {table.Sets.Count} sets and maps, {table.ElementCount} elements, {script.Length / 1024} KiB; problems: {compiled.Problems.Count}");

        using var ns = NetworkNamespace.Create("bench-netpol");
        var nft = new NftCommand(["ip", "netns", "exec", ns.Name, "nft"]);
        var replaceTimes = new List<double>();
        var churnElementTimes = new List<double>();
        var churnReplaceTimes = new List<double>();
        var counterTimes = new List<double>();
        for (int round = 0; round < Rounds; round++)
        {
            replaceTimes.Add(Time(() => nft.Run(script)));

            // Pod churn: a pod appears in a namespace whose pods many policies allow.
            var grown = PolicyCompiler.Compile(PolicyInputs.Parse(workload.Policies, workload.Namespaces,
                workload.Pods.Append(PolicyWorkload.ExtraPod("ns01", round))), PolicyWorkload.Node).Table;
            var changes = PolicyTableScript.ElementChanges(table, grown) ?? throw new InvalidOperationException("a pod changed the table's structure");
            churnElementTimes.Add(Time(() => nft.Run(changes)));
            nft.Run(script);
            churnReplaceTimes.Add(Time(() => nft.Run(PolicyTableScript.Replace(grown))));
            var writer = new PolicyTableWriter(nft);
            counterTimes.Add(Time(() => writer.ReadCounters(table.Name)));
            Console.WriteLine($"round {round + 1}: compile {compileTimes[round]:0.0} ms, replace {replaceTimes[^1]:0.0} ms, " +
                $"one pod as elements {churnElementTimes[^1]:0.0} ms, as a replacement {churnReplaceTimes[^1]:0.0} ms");
        }
        nft.Run(PolicyTableScript.Remove(table.Name));
        var tenfold = PolicyCompiler.Compile(PolicyInputs.Parse(workload.Policies, workload.Namespaces, PolicyWorkload.Build(nodeCount: 5).Pods), PolicyWorkload.Node);
        Console.WriteLine($"with 1000 pods on the node: {tenfold.Table.RuleCount} rules, {tenfold.Table.ElementCount} elements");

        BenchReport.Write("netpol", "see each metric",
        [
            new BenchMetric($"policy created to enforced, 3-node cluster (median of {Rounds})", BenchStatistics.Median(latency.PolicyCreated), null, "ms"),
            new BenchMetric($"policy deleted to no longer enforced (median of {Rounds})", BenchStatistics.Median(latency.PolicyDeleted), null, "ms"),
            new BenchMetric($"pod label added to enforced (median of {Rounds})", BenchStatistics.Median(latency.LabelAdded), null, "ms"),
            new BenchMetric($"pod label removed to no longer enforced (median of {Rounds})", BenchStatistics.Median(latency.LabelRemoved), null, "ms"),
            new BenchMetric($"compile 1000 policies / 5000 pods for a node of 100 pods (median of {Rounds})", BenchStatistics.Median(compileTimes), null, "ms"),
            new BenchMetric("render the table as an nft script", renderMs, null, "ms"),
            new BenchMetric("rules in the table (reference: rules of a chain per pod)", table.RuleCount, PerPodRules(compiled), "rules"),
            new BenchMetric("rules with 1000 of the pods on the node (reference: a chain per pod)", tenfold.Table.RuleCount, PerPodRules(tenfold), "rules"),
            new BenchMetric("chains in the table", table.Chains.Count, null, "chains"),
            new BenchMetric("set and map elements", table.ElementCount, null, "elements"),
            new BenchMetric("nft script size", script.Length / 1024.0, null, "KiB"),
            new BenchMetric($"replace the whole table with nft -f - (median of {Rounds})", BenchStatistics.Median(replaceTimes), null, "ms"),
            new BenchMetric("one pod added: element changes (reference: whole replacement)", BenchStatistics.Median(churnElementTimes), BenchStatistics.Median(churnReplaceTimes), "ms"),
            new BenchMetric("read every drop counter (nft -j list counters)", BenchStatistics.Median(counterTimes), null, "ms"),
        ], resultsDirectory);
        return 0;
    }

    /// <summary>
    /// What a per-pod scheme needs for the same node: for each local pod and direction, a jump to
    /// each selecting policy's rules, inlined (each rule once per pod it guards), and a drop.
    /// </summary>
    private static double PerPodRules(CompiledPolicies compiled)
    {
        var table = compiled.Table;
        double rules = 0;
        foreach (var map in table.Sets.Where(s => s.Kind == SetKind.Dispatch))
            foreach (var element in map.Elements.Cast<DispatchElement>())
            {
                var group = table.FindChain(element.Chain)!;
                rules += group.Rules.OfType<JumpRule>().Sum(j => table.FindChain(j.Chain)!.Rules.Count) + 1;
            }
        return rules;
    }

    private static double Time(Action action)
    {
        var watch = Stopwatch.StartNew();
        action();
        return watch.Elapsed.TotalMilliseconds;
    }
}
