using System.Text;
using Trellis.Local.Connectivity;

namespace Trellis.Local.Output;

/// <summary>The pod × pod reachability grid, readable at a glance: a row per source, a column per target.</summary>
public static class MatrixPrinter
{
    public static string Render(ConnectivityResult result)
    {
        var pods = result.Pods;
        var text = new StringBuilder();
        int nameWidth = pods.Count == 0 ? 4 : pods.Max(p => p.Name.Length);
        text.AppendLine($"{"from \\ to".PadRight(nameWidth)}  {string.Join(" ", pods.Select((_, i) => $"{i + 1,3}"))}");
        for (int row = 0; row < pods.Count; row++)
        {
            var cells = pods.Select((target, col) =>
                col == row ? "  ·" : result.Reachable.Contains((pods[row].Name, target.Name)) ? "  ✓" : "  ✗");
            text.AppendLine($"{pods[row].Name.PadRight(nameWidth)}  {string.Join(" ", cells)}   ({row + 1}) {string.Join(", ", pods[row].Addresses)} on {pods[row].Node}");
        }
        text.AppendLine();
        text.AppendLine($"{result.ReachableCount}/{result.Pairs} pod pairs reachable" +
            (result.Complete ? " — every pod reaches every other pod, across nodes, without NAT" : $" — {result.UnreachableCount} unreachable"));
        foreach (var failure in result.Failures.Take(20))
            text.AppendLine($"  ✗ {failure.From} → {failure.To} ({failure.Address})");
        return text.ToString();
    }
}
