namespace Trellis.Bench.Cni;

/// <summary>Durations in milliseconds, with the order statistics a latency table reports.</summary>
public sealed class Distribution
{
    private readonly List<double> _milliseconds = [];

    public void Add(TimeSpan duration) => _milliseconds.Add(duration.TotalMilliseconds);

    public double Median => Percentile(50);

    /// <summary>Nearest-rank percentile: the smallest sample at or above which <paramref name="percent"/>% of samples lie.</summary>
    public double Percentile(double percent)
    {
        if (_milliseconds.Count == 0) throw new InvalidOperationException("no samples");
        var sorted = _milliseconds.Order().ToArray();
        var rank = (int)Math.Ceiling(percent / 100 * sorted.Length);
        return sorted[Math.Clamp(rank, 1, sorted.Length) - 1];
    }
}

/// <summary>One plugin's ADD, DEL and ADD+DEL timings over the latency rounds.</summary>
public sealed class LatencySamples
{
    public Distribution Add { get; } = new();
    public Distribution Delete { get; } = new();
    public Distribution AddDelete { get; } = new();

    public void Record(TimeSpan add, TimeSpan delete)
    {
        Add.Add(add);
        Delete.Add(delete);
        AddDelete.Add(add + delete);
    }
}
