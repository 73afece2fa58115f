namespace Trellis.ControllerRuntime.Queue;

/// <summary>
/// A work queue with client-go's guarantees:
/// a key added while it is queued is queued once; a key added while a worker holds it
/// is queued again (once) when that worker calls <see cref="Done"/>; no key is ever held
/// by two workers at once; keys are handed out in the order they became ready.
/// </summary>
public sealed class WorkQueue<TKey> : IDisposable where TKey : notnull
{
    private readonly object _gate = new();
    private readonly Queue<TKey> _ready = new();
    // Keys that need processing: queued in _ready, or held by a worker and to be re-queued on Done.
    private readonly HashSet<TKey> _dirty = new();
    private readonly HashSet<TKey> _processing = new();
    private readonly LinkedList<TaskCompletionSource<Dequeued<TKey>>> _waiters = new();
    private readonly Dictionary<TKey, DelayedAdd> _delayed = new();
    private readonly ExponentialBackoff<TKey> _backoff;
    private readonly TimeProvider _time;
    private bool _shutDown;

    public WorkQueue(ExponentialBackoff<TKey>? backoff = null, TimeProvider? time = null)
    {
        _backoff = backoff ?? ExponentialBackoff<TKey>.Default();
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Keys ready to be handed out (not counting keys held by workers or waiting for a delay).</summary>
    public int Length
    {
        get { lock (_gate) return _ready.Count; }
    }

    public bool IsShutDown
    {
        get { lock (_gate) return _shutDown; }
    }

    public void Add(TKey key)
    {
        lock (_gate)
            AddLocked(key);
    }

    /// <summary>Adds <paramref name="key"/> once <paramref name="delay"/> has passed. Of several pending delays for one key, the earliest wins.</summary>
    public void AddAfter(TKey key, TimeSpan delay)
    {
        if (delay <= TimeSpan.Zero)
        {
            Add(key);
            return;
        }
        lock (_gate)
        {
            if (_shutDown)
                return;
            var due = _time.GetUtcNow() + delay;
            if (_delayed.TryGetValue(key, out var pending))
            {
                if (pending.Due <= due)
                    return;
                pending.Timer.Dispose();
            }
            var delayed = new DelayedAdd(due);
            delayed.Timer = _time.CreateTimer(_ => FireDelayed(key, delayed), null, delay, Timeout.InfiniteTimeSpan);
            _delayed[key] = delayed;
        }
    }

    /// <summary>Adds <paramref name="key"/> after its per-key exponential backoff; call <see cref="Forget"/> once it succeeds.</summary>
    public void AddRateLimited(TKey key) => AddAfter(key, _backoff.When(key));

    /// <summary>Ends the backoff history of <paramref name="key"/> (it does not remove the key from the queue).</summary>
    public void Forget(TKey key) => _backoff.Forget(key);

    /// <summary>How many times in a row <paramref name="key"/> has been added rate-limited since it was last forgotten.</summary>
    public int NumRequeues(TKey key) => _backoff.Failures(key);

    /// <summary>
    /// Waits for a key and marks it held by the caller, who must call <see cref="Done"/> with it.
    /// After <see cref="ShutDown"/> the remaining ready keys are still handed out; then every call returns <c>ShutDown = true</c>.
    /// </summary>
    public Task<Dequeued<TKey>> GetAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        TaskCompletionSource<Dequeued<TKey>> waiter;
        LinkedListNode<TaskCompletionSource<Dequeued<TKey>>> node;
        lock (_gate)
        {
            if (_ready.Count > 0)
                return Task.FromResult(new Dequeued<TKey>(TakeLocked(), false));
            if (_shutDown)
                return Task.FromResult(new Dequeued<TKey>(default!, true));
            waiter = new TaskCompletionSource<Dequeued<TKey>>(TaskCreationOptions.RunContinuationsAsynchronously);
            node = _waiters.AddLast(waiter);
        }
        if (cancellationToken.CanBeCanceled)
        {
            var registration = cancellationToken.Register(() =>
            {
                // Under the gate so a key is never both handed to this waiter and lost to its cancellation.
                lock (_gate)
                {
                    if (node.List is not null)
                        _waiters.Remove(node);
                    waiter.TrySetCanceled(cancellationToken);
                }
            });
            waiter.Task.ContinueWith(_ => registration.Dispose(), TaskScheduler.Default);
        }
        return waiter.Task;
    }

    /// <summary>Releases <paramref name="key"/>; if it was added while held, it becomes ready again.</summary>
    public void Done(TKey key)
    {
        lock (_gate)
        {
            if (!_processing.Remove(key))
                throw new InvalidOperationException($"work queue: Done({key}) for a key that no worker holds");
            if (_dirty.Contains(key))
                ReadyLocked(key);
        }
    }

    /// <summary>Stops accepting keys, cancels pending delayed adds and wakes every waiting worker once the ready keys are drained.</summary>
    public void ShutDown()
    {
        List<TaskCompletionSource<Dequeued<TKey>>> waiters;
        lock (_gate)
        {
            if (_shutDown)
                return;
            _shutDown = true;
            foreach (var pending in _delayed.Values)
                pending.Timer.Dispose();
            _delayed.Clear();
            // Waiters exist only while nothing is ready, so all of them may be told now.
            waiters = _waiters.ToList();
            _waiters.Clear();
        }
        foreach (var waiter in waiters)
            waiter.TrySetResult(new Dequeued<TKey>(default!, true));
    }

    public void Dispose() => ShutDown();

    private void AddLocked(TKey key)
    {
        if (_shutDown || !_dirty.Add(key))
            return;
        if (_processing.Contains(key))
            return;
        ReadyLocked(key);
    }

    private void ReadyLocked(TKey key)
    {
        while (_waiters.First is { } first)
        {
            _waiters.RemoveFirst();
            _dirty.Remove(key);
            _processing.Add(key);
            if (first.Value.TrySetResult(new Dequeued<TKey>(key, false)))
                return;
            _processing.Remove(key);
            _dirty.Add(key);
        }
        _ready.Enqueue(key);
    }

    private TKey TakeLocked()
    {
        var key = _ready.Dequeue();
        _dirty.Remove(key);
        _processing.Add(key);
        return key;
    }

    private void FireDelayed(TKey key, DelayedAdd delayed)
    {
        lock (_gate)
        {
            if (!_delayed.TryGetValue(key, out var current) || !ReferenceEquals(current, delayed))
                return;
            _delayed.Remove(key);
            delayed.Timer.Dispose();
            AddLocked(key);
        }
    }

    private sealed class DelayedAdd(DateTimeOffset due)
    {
        public DateTimeOffset Due { get; } = due;
        public ITimer Timer { get; set; } = null!;
    }
}
