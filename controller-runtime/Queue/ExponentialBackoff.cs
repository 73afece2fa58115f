namespace Trellis.ControllerRuntime.Queue;

/// <summary>
/// Per-key exponential backoff: the n-th consecutive failure of a key waits
/// <c>baseDelay * 2^(n-1)</c>, capped at <c>maxDelay</c>. Pure and thread-safe.
/// </summary>
public sealed class ExponentialBackoff<TKey> where TKey : notnull
{
    private readonly object _gate = new();
    private readonly Dictionary<TKey, int> _failures = new();

    public ExponentialBackoff(TimeSpan baseDelay, TimeSpan maxDelay)
    {
        if (baseDelay <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(baseDelay), baseDelay, "base delay must be positive");
        if (maxDelay < baseDelay)
            throw new ArgumentOutOfRangeException(nameof(maxDelay), maxDelay, $"max delay must be at least the base delay {baseDelay}");
        BaseDelay = baseDelay;
        MaxDelay = maxDelay;
    }

    /// <summary>client-go's default controller rate limiter: 5 ms doubling to 1000 s; we cap at 5 min.</summary>
    public static ExponentialBackoff<TKey> Default() => new(TimeSpan.FromMilliseconds(5), TimeSpan.FromMinutes(5));

    public TimeSpan BaseDelay { get; }
    public TimeSpan MaxDelay { get; }

    /// <summary>Records one more failure of <paramref name="key"/> and returns how long to wait before retrying it.</summary>
    public TimeSpan When(TKey key)
    {
        int exponent;
        lock (_gate)
        {
            _failures.TryGetValue(key, out exponent);
            _failures[key] = exponent + 1;
        }
        return DelayFor(exponent);
    }

    public int Failures(TKey key)
    {
        lock (_gate)
            return _failures.TryGetValue(key, out var n) ? n : 0;
    }

    /// <summary>Clears the failure history of <paramref name="key"/>; its next failure waits the base delay again.</summary>
    public void Forget(TKey key)
    {
        lock (_gate)
            _failures.Remove(key);
    }

    private TimeSpan DelayFor(int exponent)
    {
        // Doubling past 2^62 ticks overflows; anything that large is past the cap anyway.
        if (exponent >= 62)
            return MaxDelay;
        var ticks = (double)BaseDelay.Ticks * Math.Pow(2, exponent);
        return ticks >= MaxDelay.Ticks ? MaxDelay : TimeSpan.FromTicks((long)ticks);
    }
}
