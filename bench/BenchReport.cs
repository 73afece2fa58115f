using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Trellis.Bench;

/// <summary>One measured figure, Trellis beside its anchor when the suite has one.</summary>
public sealed record BenchMetric(string Metric, double Trellis, double? Reference, string Unit)
{
    /// <summary>trellis / reference; below 1 means Trellis is smaller (faster, fewer, lighter).</summary>
    public double? Ratio => Reference is > 0 ? Trellis / Reference : null;
}

/// <summary>How the rounds of one figure become the figure: the machine is shared and noisy, so the middle one.</summary>
public static class BenchStatistics
{
    /// <summary>The middle value; of an even count, the mean of the middle two.</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        if (sorted.Count == 0) throw new ArgumentException("no rounds to take the median of", nameof(values));
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}

/// <summary>Prints a suite's table and writes it to bench/results/&lt;suite&gt;.json.</summary>
public static class BenchReport
{
    public static void Write(string suite, string referenceName, IReadOnlyList<BenchMetric> metrics, string resultsDirectory)
    {
        Console.WriteLine();
        Console.WriteLine($"suite {suite} (reference: {referenceName})");
        Console.WriteLine($"{"metric",-40} {"trellis",14} {"reference",14} {"ratio",8}  unit");
        foreach (var m in metrics)
            Console.WriteLine($"{m.Metric,-40} {Format(m.Trellis),14} {(m.Reference is { } r ? Format(r) : "-"),14} {(m.Ratio is { } q ? q.ToString("0.000", CultureInfo.InvariantCulture) : "-"),8}  {m.Unit}");

        var document = new JsonObject
        {
            ["suite"] = suite,
            ["reference"] = referenceName,
            ["measuredAt"] = DateTimeOffset.UtcNow.ToString("O"),
            ["machine"] = $"{Environment.ProcessorCount} cores, {Environment.OSVersion}",
            ["metrics"] = new JsonArray(metrics.Select(m => (JsonNode)new JsonObject
            {
                ["metric"] = m.Metric,
                ["trellis"] = m.Trellis,
                ["reference"] = m.Reference,
                ["ratio"] = m.Ratio is { } q ? Math.Round(q, 4) : null,
                ["unit"] = m.Unit,
            }).ToArray()),
        };
        Directory.CreateDirectory(resultsDirectory);
        var path = Path.Combine(resultsDirectory, $"{suite}.json");
        // Relaxed escaping keeps "add+del" readable in the file; it is read by people and tools, never embedded in HTML.
        var options = new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        File.WriteAllText(path, document.ToJsonString(options) + "\n");
        Console.WriteLine($"written to {path}");
    }

    private static string Format(double value) => value.ToString(value >= 100 ? "0.0" : "0.000", CultureInfo.InvariantCulture);
}
