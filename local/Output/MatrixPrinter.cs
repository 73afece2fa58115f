using System.Text;
using Trellis.Local.Connectivity;

namespace Trellis.Local.Output;

/// <summary>The pod × pod grids, readable at a glance: a row per source, a column per target.</summary>
public static class MatrixPrinter
{
    public static string Render(ConnectivityResult result)
    {
        var text = new StringBuilder(Grid(result.Pods, (from, to) => result.Reachable.Contains((from.Key, to.Key)) ? "✓" : "✗"));
        text.AppendLine();
        text.AppendLine($"{result.ReachableCount}/{result.Pairs} pod pairs reachable" +
            (result.Complete ? " — every pod reaches every other pod, across nodes, without NAT" : $" — {result.UnreachableCount} unreachable"));
        foreach (var failure in result.Failures.Take(20))
            text.AppendLine($"  ✗ {failure.From} → {failure.To} ({failure.Address})");
        return text.ToString();
    }

    /// <summary>✓ the target answered with its own name, ✗ it did not, - it does not declare the port.</summary>
    public static string Render(PortMatrixResult result)
    {
        var text = new StringBuilder(Grid(result.Pods, (from, to) =>
            !result.Results.ContainsKey((from.Key, to.Key)) ? "-" : result.Passed(from.Key, to.Key) ? "✓" : "✗"));
        text.AppendLine();
        text.AppendLine($"{result.PassedCount}/{result.Probed} answered on {result.Port}");
        foreach (var ((from, to), probe) in result.Results.Where(r => !result.Passed(r.Key.From, r.Key.To)).OrderBy(r => r.Key).Take(20))
            text.AppendLine($"  ✗ {from} → {to}: {probe}");
        return text.ToString();
    }

    private static string Grid(IReadOnlyList<PodEndpoint> pods, Func<PodEndpoint, PodEndpoint, string> cell)
    {
        var text = new StringBuilder();
        int nameWidth = pods.Count == 0 ? 9 : Math.Max(9, pods.Max(p => p.Key.Length));
        text.AppendLine($"{"from \\ to".PadRight(nameWidth)}  {string.Join(" ", pods.Select((_, i) => $"{i + 1,3}"))}");
        for (int row = 0; row < pods.Count; row++)
        {
            var cells = pods.Select((target, col) => col == row ? "  ·" : $"  {cell(pods[row], target)}");
            text.AppendLine($"{pods[row].Key.PadRight(nameWidth)}  {string.Join(" ", cells)}   ({row + 1}) {string.Join(", ", pods[row].Addresses)} on {pods[row].Node}");
        }
        return text.ToString();
    }
}
