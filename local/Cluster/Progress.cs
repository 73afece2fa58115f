using System.Diagnostics;

namespace Trellis.Local.Cluster;

/// <summary>Step-by-step progress, one line a step with its time, so a newcomer sees what is being built.</summary>
public sealed class Progress(TextWriter output)
{
    private int _step;

    public async Task StepAsync(string what, Func<Task> action)
    {
        int step = Interlocked.Increment(ref _step);
        output.Write($"  [{step}] {what} ... ");
        output.Flush();
        var clock = Stopwatch.StartNew();
        try
        {
            await action();
        }
        catch
        {
            output.WriteLine("failed");
            throw;
        }
        output.WriteLine($"ok ({clock.Elapsed.TotalSeconds:0.0}s)");
    }

    public void Note(string line) => output.WriteLine(line);
}

/// <summary>Polling for eventual state, with a message that says what never became true.</summary>
public static class Until
{
    public static async Task TrueAsync(string description, TimeSpan timeout, Func<Task<bool>> condition, CancellationToken ct, Func<string>? diagnostics = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (await condition()) return;
            if (DateTime.UtcNow > deadline)
                throw new LocalClusterException($"timed out after {timeout.TotalSeconds:0}s waiting until {description}{(diagnostics is null ? "" : $": {diagnostics()}")}");
            await Task.Delay(200, ct);
        }
    }
}
