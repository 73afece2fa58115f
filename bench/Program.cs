using Trellis.Bench;
using Trellis.Testing;

// trellis-bench SUITE [options]: each suite measures Trellis beside the anchor its issue names,
// in the same run, prints a table and writes bench/results/SUITE.json.
var suites = new Dictionary<string, Func<string[], string, Task<int>>>(StringComparer.OrdinalIgnoreCase)
{
    // Suites register here: ["name"] = (args, resultsDirectory) => Suite.RunAsync(args, resultsDirectory),
    ["cni"] = Trellis.Bench.Cni.CniBenchmark.RunAsync,
    ["agent"] = Trellis.Bench.Agent.AgentBenchmark.RunAsync,
    ["operator"] = Trellis.Bench.Operator.OperatorBenchmark.RunAsync,
    ["pods"] = Trellis.Bench.Pods.PodsBenchmark.RunAsync,
    ["netpol"] = Trellis.Bench.NetworkPolicy.NetworkPolicyBenchmark.RunAsync,
    ["bgp"] = Trellis.Bench.Bgp.BgpBenchmark.RunAsync,
    ["throughput"] = Trellis.Bench.Throughput.ThroughputBenchmark.RunAsync,
};

if (args.Length == 0 || !suites.TryGetValue(args[0], out var run))
{
    Console.Error.WriteLine($"usage: trellis-bench <{string.Join('|', suites.Keys)}> [options]  (run as root)");
    return 2;
}
var resultsDirectory = Environment.GetEnvironmentVariable("TRELLIS_BENCH_RESULTS")
    ?? Path.Combine(RepositoryRoot.Find(), "bench", "results");
return await run(args[1..], resultsDirectory);
