namespace Trellis.Testing;

public static class TaskTiming
{
    /// <summary>True when <paramref name="task"/> ends within <paramref name="timeout"/>; for tests that prove one thing waits for another.</summary>
    public static async Task<bool> EndsWithin(this Task task, TimeSpan timeout) =>
        await Task.WhenAny(task, Task.Delay(timeout)) == task;
}
