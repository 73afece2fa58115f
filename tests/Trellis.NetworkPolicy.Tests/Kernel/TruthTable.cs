using System.Net.Sockets;
using System.Text;
using Trellis.NetworkPolicy.Facts;
using Trellis.NetworkPolicy.Tests.Model;

namespace Trellis.NetworkPolicy.Tests.Kernel;

/// <summary>
/// Probes a truth table in the lab and compares every cell with the reference evaluator (and,
/// when given, with upstream's expected table). A cell the evaluator allows but that got no
/// answer is probed once more with a long timeout before it counts as a mismatch, so a slow
/// machine cannot fail a test; an answer where a denial was expected is never retried.
/// </summary>
public static class TruthTable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(500);
    public static readonly TimeSpan PatientTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Probes every pair of <paramref name="pods"/> over IPv4 and IPv6 at once; null when every cell matches.</summary>
    public static async Task<string?> CompareAsync(PolicyLab lab, IReadOnlyList<string> pods,
        int port, TransportProtocol protocol, Reachability? upstream = null)
    {
        var state = lab.State;
        var cells = new List<ProbeCell>();
        foreach (var family in Families)
            foreach (var from in pods)
                foreach (var to in pods)
                    if (from != to)
                        cells.Add(new ProbeCell(from, to, state.Pod(to).Address(family), port, protocol));
        var results = new Dictionary<ProbeCell, ProbeResult>(await lab.ProbeAsync(cells, Timeout));
        bool Expected(ProbeCell c) => state.Expect(state.Pod(c.From), state.Pod(c.To), c.Destination.AddressFamily, port, protocol);
        var doubtful = cells.Where(c => Expected(c) && !results[c].Answered).ToList();
        if (doubtful.Count > 0)
            foreach (var (cell, result) in await lab.ProbeAsync(doubtful, PatientTimeout))
                results[cell] = result;

        var report = new StringBuilder();
        foreach (var family in Families)
        {
            var familyCells = cells.Where(c => c.Destination.AddressFamily == family).ToList();
            var problems = Problems(familyCells, results, upstream, Expected);
            if (problems.Length > 0)
                report.Append($"{protocol.ApiName()}/{port} over {(family == AddressFamily.InterNetwork ? "IPv4" : "IPv6")}:\n{problems}\n{Render(pods, familyCells, results)}");
        }
        return report.Length == 0 ? null : report.ToString();
    }

    private static readonly AddressFamily[] Families = [AddressFamily.InterNetwork, AddressFamily.InterNetworkV6];

    private static StringBuilder Problems(List<ProbeCell> cells, Dictionary<ProbeCell, ProbeResult> results, Reachability? upstream, Func<ProbeCell, bool> expectedOf)
    {
        var problems = new StringBuilder();
        foreach (var cell in cells)
        {
            var result = results[cell];
            bool expected = expectedOf(cell);
            if (upstream is not null && upstream[cell.From, cell.To] != expected)
                problems.AppendLine($"  {cell.From} -> {cell.To}: upstream expects {Word(upstream[cell.From, cell.To])}, the reference evaluator says {Word(expected)}");
            if (result.Error is not null)
                problems.AppendLine($"  {cell.From} -> {cell.To}: probe failed: {result.Error}");
            else if (result.Answered && result.Answer != cell.To)
                problems.AppendLine($"  {cell.From} -> {cell.To}: answered by {result.Answer}");
            else if (result.Answered != expected)
                problems.AppendLine($"  {cell.From} -> {cell.To}: the kernel {(result.Answered ? "allowed" : "denied")}, the reference evaluator says {Word(expected)}");
        }
        return problems;
    }

    private static string Word(bool allowed) => allowed ? "allow" : "deny";

    /// <summary>The table as upstream prints it: "." allowed, "X" denied.</summary>
    private static string Render(IReadOnlyList<string> pods, List<ProbeCell> cells, Dictionary<ProbeCell, ProbeResult> results)
    {
        var text = new StringBuilder("kernel:\t" + string.Join('\t', pods) + "\n");
        foreach (var from in pods)
        {
            text.Append(from);
            foreach (var to in pods)
            {
                var cell = cells.FirstOrDefault(c => c.From == from && c.To == to);
                text.Append('\t').Append(cell is null ? "-" : results[cell].Answered ? "." : "X");
            }
            text.Append('\n');
        }
        return text.ToString();
    }
}
