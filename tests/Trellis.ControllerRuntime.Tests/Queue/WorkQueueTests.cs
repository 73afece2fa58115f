using System.Collections.Concurrent;
using Trellis.ControllerRuntime.Queue;
using Xunit;

namespace Trellis.ControllerRuntime.Tests.Queue;

public sealed class WorkQueueTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private static async Task<string> Next(WorkQueue<string> queue)
    {
        var item = await queue.GetAsync().WaitAsync(Patience);
        Assert.False(item.ShutDown);
        return item.Key;
    }

    [Fact]
    public async Task HandsOutKeysInOrderAdded()
    {
        using var queue = new WorkQueue<string>();
        queue.Add("a");
        queue.Add("b");
        queue.Add("c");
        Assert.Equal(3, queue.Length);
        Assert.Equal("a", await Next(queue));
        Assert.Equal("b", await Next(queue));
        Assert.Equal("c", await Next(queue));
        Assert.Equal(0, queue.Length);
    }

    [Fact]
    public async Task DuplicateWhileQueuedIsQueuedOnce()
    {
        using var queue = new WorkQueue<string>();
        queue.Add("a");
        queue.Add("b");
        queue.Add("a");
        Assert.Equal(2, queue.Length);
        Assert.Equal("a", await Next(queue));
        Assert.Equal("b", await Next(queue));
        Assert.Equal(0, queue.Length);
    }

    [Fact]
    public async Task AddWhileProcessingRequeuesOnceAfterDone()
    {
        using var queue = new WorkQueue<string>();
        queue.Add("a");
        var key = await Next(queue);
        queue.Add("a");
        queue.Add("a");
        Assert.Equal(0, queue.Length);
        var second = queue.GetAsync();
        Assert.False(second.IsCompleted);
        queue.Done(key);
        Assert.Equal("a", (await second.WaitAsync(Patience)).Key);
        queue.Done("a");
        Assert.Equal(0, queue.Length);
    }

    [Fact]
    public async Task DoneWithoutReAddLeavesQueueEmpty()
    {
        using var queue = new WorkQueue<string>();
        queue.Add("a");
        queue.Done(await Next(queue));
        Assert.Equal(0, queue.Length);
        var waiting = queue.GetAsync();
        await Task.Delay(50);
        Assert.False(waiting.IsCompleted);
        queue.ShutDown();
        Assert.True((await waiting.WaitAsync(Patience)).ShutDown);
    }

    [Fact]
    public void DoneForAKeyNobodyHoldsIsAnErrorNamingTheKey()
    {
        using var queue = new WorkQueue<string>();
        queue.Add("node-7");
        var error = Assert.Throws<InvalidOperationException>(() => queue.Done("node-7"));
        Assert.Contains("node-7", error.Message);
        Assert.Equal(1, queue.Length);
    }

    [Fact]
    public async Task WaitingWorkerReceivesKeyAddedLater()
    {
        using var queue = new WorkQueue<string>();
        var waiting = queue.GetAsync();
        Assert.False(waiting.IsCompleted);
        queue.Add("a");
        Assert.Equal("a", (await waiting.WaitAsync(Patience)).Key);
        Assert.Equal(0, queue.Length);
    }

    [Fact]
    public async Task CancelledWaiterDoesNotSwallowAKey()
    {
        using var queue = new WorkQueue<string>();
        using var cts = new CancellationTokenSource();
        var cancelled = queue.GetAsync(cts.Token);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        queue.Add("a");
        Assert.Equal("a", await Next(queue));
    }

    [Fact]
    public async Task ShutDownDrainsReadyKeysThenReportsShutDown()
    {
        using var queue = new WorkQueue<string>();
        queue.Add("a");
        queue.Add("b");
        queue.ShutDown();
        queue.Add("c");
        Assert.True(queue.IsShutDown);
        Assert.Equal("a", await Next(queue));
        Assert.Equal("b", await Next(queue));
        Assert.True((await queue.GetAsync()).ShutDown);
        Assert.True((await queue.GetAsync()).ShutDown);
    }

    [Fact]
    public async Task ShutDownWakesEveryWaitingWorker()
    {
        using var queue = new WorkQueue<string>();
        var waiters = Enumerable.Range(0, 5).Select(_ => queue.GetAsync()).ToArray();
        queue.ShutDown();
        var results = await Task.WhenAll(waiters).WaitAsync(Patience);
        Assert.All(results, r => Assert.True(r.ShutDown));
    }

    [Fact]
    public async Task AddAfterDelaysTheKey()
    {
        using var queue = new WorkQueue<string>();
        queue.AddAfter("late", TimeSpan.FromMilliseconds(200));
        queue.Add("now");
        Assert.Equal(1, queue.Length);
        Assert.Equal("now", await Next(queue));
        Assert.Equal("late", await Next(queue));
    }

    [Fact]
    public async Task AddAfterZeroAddsImmediately()
    {
        using var queue = new WorkQueue<string>();
        queue.AddAfter("a", TimeSpan.Zero);
        Assert.Equal(1, queue.Length);
        Assert.Equal("a", await Next(queue));
    }

    [Fact]
    public async Task EarlierDelayForTheSameKeyWinsAndKeyArrivesOnce()
    {
        using var queue = new WorkQueue<string>();
        queue.AddAfter("a", TimeSpan.FromHours(1));
        queue.AddAfter("a", TimeSpan.FromMilliseconds(20));
        queue.AddAfter("a", TimeSpan.FromHours(2));
        Assert.Equal("a", await Next(queue));
        queue.Done("a");
        await Task.Delay(100);
        Assert.Equal(0, queue.Length);
    }

    [Fact]
    public async Task ShutDownCancelsPendingDelayedAdds()
    {
        using var queue = new WorkQueue<string>();
        queue.AddAfter("a", TimeSpan.FromMilliseconds(30));
        queue.ShutDown();
        await Task.Delay(100);
        Assert.Equal(0, queue.Length);
        Assert.True((await queue.GetAsync()).ShutDown);
    }

    [Fact]
    public async Task AddRateLimitedBacksOffPerKeyAndForgetResets()
    {
        var backoff = new ExponentialBackoff<string>(TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(8));
        using var queue = new WorkQueue<string>(backoff);
        for (var i = 1; i <= 5; i++)
        {
            queue.AddRateLimited("a");
            Assert.Equal(i, queue.NumRequeues("a"));
            queue.Done(await Next(queue));
        }
        queue.Forget("a");
        Assert.Equal(0, queue.NumRequeues("a"));
        Assert.Equal(0, queue.NumRequeues("never-seen"));
    }

    [Fact]
    public async Task RateLimitedKeyWaitsLongerThanAnImmediateOne()
    {
        var backoff = new ExponentialBackoff<string>(TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(1));
        using var queue = new WorkQueue<string>(backoff);
        queue.AddRateLimited("slow");
        queue.Add("fast");
        Assert.Equal("fast", await Next(queue));
        Assert.Equal(0, queue.Length);
        Assert.Equal("slow", await Next(queue));
    }

    [Fact]
    public async Task ManyWorkersNeverHoldOneKeyTwiceAndLoseNoUpdate()
    {
        const int keys = 20;
        const int updatesPerKey = 200;
        const int workers = 8;
        using var queue = new WorkQueue<int>();
        // The "object" each key stands for: producers bump its version, workers record the latest version they saw.
        var version = new int[keys];
        var seen = new int[keys];
        var holders = new int[keys];
        var overlaps = 0;
        var processed = 0;

        async Task Worker()
        {
            while (true)
            {
                var item = await queue.GetAsync();
                if (item.ShutDown)
                    return;
                if (Interlocked.Increment(ref holders[item.Key]) != 1)
                    Interlocked.Increment(ref overlaps);
                var observed = Volatile.Read(ref version[item.Key]);
                if (processed % 7 == 0)
                    await Task.Yield();
                Volatile.Write(ref seen[item.Key], observed);
                Interlocked.Increment(ref processed);
                Interlocked.Decrement(ref holders[item.Key]);
                queue.Done(item.Key);
            }
        }

        var running = Enumerable.Range(0, workers).Select(_ => Task.Run(Worker)).ToArray();
        var producers = Enumerable.Range(0, 4).Select(p => Task.Run(() =>
        {
            for (var i = 0; i < updatesPerKey; i++)
                for (var k = p; k < keys; k += 4)
                {
                    Interlocked.Increment(ref version[k]);
                    queue.Add(k);
                }
        })).ToArray();
        await Task.WhenAll(producers).WaitAsync(Patience);

        var deadline = DateTime.UtcNow + Patience;
        while (Enumerable.Range(0, keys).Any(k => Volatile.Read(ref seen[k]) != updatesPerKey) && DateTime.UtcNow < deadline)
            await Task.Delay(10);
        queue.ShutDown();
        await Task.WhenAll(running).WaitAsync(Patience);

        Assert.Equal(0, overlaps);
        Assert.All(Enumerable.Range(0, keys), k => Assert.Equal(updatesPerKey, seen[k]));
        Assert.True(processed <= keys * updatesPerKey, $"processed {processed} times for {keys * updatesPerKey} adds");
    }

    [Fact]
    public async Task ConcurrentAddersAndCancellingWaitersNeverLoseAKey()
    {
        using var queue = new WorkQueue<int>();
        var received = new ConcurrentDictionary<int, int>();
        using var stop = new CancellationTokenSource();

        async Task Worker(int id)
        {
            var random = new Random(id);
            while (!stop.IsCancellationRequested)
            {
                using var attempt = new CancellationTokenSource(TimeSpan.FromMilliseconds(random.Next(1, 5)));
                try
                {
                    var item = await queue.GetAsync(attempt.Token);
                    if (item.ShutDown)
                        return;
                    received.AddOrUpdate(item.Key, 1, (_, n) => n + 1);
                    queue.Done(item.Key);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }

        var workers = Enumerable.Range(0, 6).Select(id => Task.Run(() => Worker(id))).ToArray();
        for (var k = 0; k < 500; k++)
        {
            queue.Add(k);
            if (k % 50 == 0)
                await Task.Delay(5);
        }
        var deadline = DateTime.UtcNow + Patience;
        while (received.Count < 500 && DateTime.UtcNow < deadline)
            await Task.Delay(10);
        stop.Cancel();
        queue.ShutDown();
        await Task.WhenAll(workers).WaitAsync(Patience);

        Assert.Equal(500, received.Count);
        Assert.All(received.Values, n => Assert.Equal(1, n));
    }
}
