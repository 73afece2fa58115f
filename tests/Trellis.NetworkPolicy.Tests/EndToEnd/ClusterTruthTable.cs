using System.Text;
using Trellis.Local.Connectivity;
using Trellis.NetworkPolicy.Tests.Model;
using Trellis.NetworkPolicy.Tests.Reference;

namespace Trellis.NetworkPolicy.Tests.EndToEnd;

/// <summary>
/// A truth table in the local cluster: every pair of the case's pods probed at once through
/// trellis-local's probe (a socket in the source pod's sandbox), every cell compared with the
/// reference evaluator reading the objects the API holds. Agents apply changes asynchronously,
/// so the whole table is probed again until one round matches entirely, or a deadline passes:
/// the round that passes is a complete table, never a patchwork of rounds.
/// </summary>
public static class ClusterTruthTable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan PatientTimeout = TimeSpan.FromSeconds(4);
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    public static async Task<string?> CompareAsync(PolicyCluster cluster, IReadOnlyList<string> pods, int port, string protocol, Reachability? upstream)
    {
        var (policies, namespaces, objects) = await cluster.ReadAsync();
        var cells = (from f in pods from t in pods where f != t select (From: f, To: t)).ToList();
        var expected = cells.ToDictionary(c => c, c => ReferenceEvaluator.Allows(policies, namespaces,
            Endpoint.OfPod(objects[c.From], cluster.Address(c.From)), Endpoint.OfPod(objects[c.To], cluster.Address(c.To)), port, protocol));
        var report = new StringBuilder();
        if (upstream is not null)
            foreach (var cell in cells.Where(c => upstream[c.From, c.To] != expected[c]))
                report.AppendLine($"  {cell.From} -> {cell.To}: upstream expects {Word(upstream[cell.From, cell.To])}, the reference evaluator says {Word(expected[cell])}");
        if (report.Length > 0) return report.ToString();

        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromMilliseconds(200));
        while (true)
        {
            var results = await ProbeAsync(cluster, cells, port, protocol, Timeout);
            foreach (var (cell, result) in await ProbeAsync(cluster, cells.Where(c => expected[c] && !results[c].Connected).ToList(), port, protocol, PatientTimeout))
                results[cell] = result;
            var wrong = cells.Where(c => Problem(c.To, expected[c], results[c]) is not null).ToList();
            if (wrong.Count == 0) return null;
            if (clock.Elapsed > Deadline)
            {
                foreach (var cell in wrong) report.AppendLine($"  {cell.From} -> {cell.To}: {Problem(cell.To, expected[cell], results[cell])}");
                return $"{protocol}/{port}, still wrong after {Deadline.TotalSeconds} s:\n{report}";
            }
        }
    }

    private static string? Problem(string to, bool expected, ProbeResult result) => result.Outcome switch
    {
        ProbeOutcome.Answered when result.Detail != to => $"answered by {result.Detail}",
        ProbeOutcome.Answered when !expected => "the cluster allowed it, the reference evaluator says deny",
        ProbeOutcome.TimedOut when expected => "the cluster denied it, the reference evaluator says allow",
        ProbeOutcome.Answered or ProbeOutcome.TimedOut => null,
        _ => $"probe failed: {result}",
    };

    private static async Task<Dictionary<(string From, string To), ProbeResult>> ProbeAsync(PolicyCluster cluster,
        IReadOnlyList<(string From, string To)> cells, int port, string protocol, TimeSpan timeout)
    {
        var probes = cells.Select(async c => (c, await PodProber.ProbeAsync(cluster.Endpoints[c.From], cluster.Endpoints[c.To], port, protocol, timeout, CancellationToken.None)));
        return (await Task.WhenAll(probes)).ToDictionary(p => p.c, p => p.Item2);
    }

    private static string Word(bool allowed) => allowed ? "allow" : "deny";
}
