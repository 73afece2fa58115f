using System.Collections.Concurrent;
using Trellis.ControllerRuntime.Controllers;
using Trellis.ControllerRuntime.Queue;
using Xunit;

namespace Trellis.ControllerRuntime.Tests.Controllers;

public sealed class ControllerTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    /// <summary>A reconciler whose outcome per call is scripted by the test and which records what it saw.</summary>
    private sealed class ScriptedReconciler(Func<string, int, ReconcileResult> outcome) : IReconciler<string>
    {
        private readonly ConcurrentDictionary<string, int> _calls = new();
        private readonly ConcurrentDictionary<string, int> _active = new();
        public int Overlaps;
        public readonly ConcurrentQueue<string> Order = new();

        public int Calls(string key) => _calls.GetValueOrDefault(key);

        public async Task<ReconcileResult> ReconcileAsync(string key, CancellationToken cancellationToken)
        {
            if (_active.AddOrUpdate(key, 1, (_, n) => n + 1) != 1)
                Interlocked.Increment(ref Overlaps);
            try
            {
                var call = _calls.AddOrUpdate(key, 1, (_, n) => n + 1);
                Order.Enqueue(key);
                await Task.Yield();
                return outcome(key, call);
            }
            finally
            {
                _active.AddOrUpdate(key, 0, (_, n) => n - 1);
            }
        }
    }

    private static async Task Eventually(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task ReconcilesEachAddedKey()
    {
        var reconciler = new ScriptedReconciler((_, _) => ReconcileResult.Done);
        var queue = new WorkQueue<string>();
        var controller = new Controller<string>(queue, reconciler, new ControllerOptions { Name = "test", Workers = 3 });
        using var stop = new CancellationTokenSource();
        var run = controller.RunAsync(stop.Token);
        foreach (var key in new[] { "a", "b", "c" })
            queue.Add(key);
        await Eventually(() => reconciler.Order.Count == 3, "three reconciles");
        stop.Cancel();
        await run.WaitAsync(Patience);
        Assert.Equal(new[] { "a", "b", "c" }, reconciler.Order.OrderBy(k => k));
    }

    [Fact]
    public async Task FailureIsRetriedWithBackoffAndSuccessForgetsTheKey()
    {
        var reconciler = new ScriptedReconciler((_, call) => call <= 3 ? throw new InvalidOperationException($"failure {call}") : ReconcileResult.Done);
        var queue = new WorkQueue<string>(new ExponentialBackoff<string>(TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(10)));
        var controller = new Controller<string>(queue, reconciler, new ControllerOptions { Name = "test", Workers = 2 });
        using var stop = new CancellationTokenSource();
        var run = controller.RunAsync(stop.Token);
        queue.Add("flaky");
        await Eventually(() => reconciler.Calls("flaky") == 4, "the fourth attempt");
        await Eventually(() => queue.NumRequeues("flaky") == 0, "the key is forgotten after success");
        await Task.Delay(50);
        Assert.Equal(4, reconciler.Calls("flaky"));
        stop.Cancel();
        await run.WaitAsync(Patience);
    }

    [Fact]
    public async Task RequeueAfterRunsTheKeyAgain()
    {
        var reconciler = new ScriptedReconciler((_, call) => call < 3 ? ReconcileResult.After(TimeSpan.FromMilliseconds(20)) : ReconcileResult.Done);
        var queue = new WorkQueue<string>();
        var controller = new Controller<string>(queue, reconciler, new ControllerOptions { Name = "test" });
        using var stop = new CancellationTokenSource();
        var run = controller.RunAsync(stop.Token);
        queue.Add("poll");
        await Eventually(() => reconciler.Calls("poll") == 3, "three polls");
        await Task.Delay(100);
        Assert.Equal(3, reconciler.Calls("poll"));
        Assert.Equal(0, queue.NumRequeues("poll"));
        stop.Cancel();
        await run.WaitAsync(Patience);
    }

    [Fact]
    public async Task ManyWorkersNeverReconcileOneKeyConcurrently()
    {
        var reconciler = new ScriptedReconciler((_, _) => ReconcileResult.Done);
        var queue = new WorkQueue<string>();
        var controller = new Controller<string>(queue, reconciler, new ControllerOptions { Name = "test", Workers = 8 });
        using var stop = new CancellationTokenSource();
        var run = controller.RunAsync(stop.Token);
        for (var round = 0; round < 200; round++)
            for (var k = 0; k < 5; k++)
                queue.Add($"key-{k}");
        // A drained queue is not enough: a worker may hold a key it has not reconciled yet, and stopping would cancel it.
        await Eventually(() => queue.Length == 0 && Enumerable.Range(0, 5).All(k => reconciler.Calls($"key-{k}") >= 1), "every key reconciled and the queue drained");
        stop.Cancel();
        await run.WaitAsync(Patience);
        Assert.Equal(0, reconciler.Overlaps);
    }

    [Fact]
    public async Task StoppingShutsTheQueueDown()
    {
        var queue = new WorkQueue<string>();
        var controller = new Controller<string>(queue, new ScriptedReconciler((_, _) => ReconcileResult.Done), new ControllerOptions { Name = "test" });
        using var stop = new CancellationTokenSource();
        var run = controller.RunAsync(stop.Token);
        stop.Cancel();
        await run.WaitAsync(Patience);
        Assert.True(queue.IsShutDown);
    }

    [Fact]
    public void RejectsZeroWorkersNamingTheController()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new Controller<string>(new WorkQueue<string>(), new ScriptedReconciler((_, _) => ReconcileResult.Done), new ControllerOptions { Name = "subnets", Workers = 0 }));
        Assert.Contains("subnets", error.Message);
    }

    [Fact]
    public void NegativeRequeueDelayIsRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ReconcileResult.After(TimeSpan.FromSeconds(-1)));
        Assert.Null(ReconcileResult.Done.RequeueAfter);
        Assert.Equal(TimeSpan.FromSeconds(3), ReconcileResult.After(TimeSpan.FromSeconds(3)).RequeueAfter);
    }
}
