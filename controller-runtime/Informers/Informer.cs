using System.Collections.Concurrent;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Trellis.ControllerRuntime.Clients;
using Trellis.ControllerRuntime.Queue;

namespace Trellis.ControllerRuntime.Informers;

/// <summary>
/// Lists, then watches, one resource type and keeps a cache of it keyed by <see cref="ObjectKey"/>.
/// A watch that ends or breaks resumes from the last resource version seen (bookmarks advance it);
/// only a 410 Gone makes it list again, and then it delivers just the differences from its cache.
/// Handlers run one at a time, in the order the changes were applied to the cache; keep them quick
/// (enqueue a key) because the next change waits for them.
/// A controller that writes may <see cref="Assume"/> what it wrote (or <see cref="AssumeDeleted"/> what it
/// deleted): <see cref="Get(string)"/> and <see cref="List"/> then answer with its own write until the
/// watch delivers that write or a newer one, so a reconcile running between a write and its event never
/// acts on the older state (client-go's mutation cache, kube-scheduler's assume cache).
/// </summary>
public sealed class Informer<T> where T : class, IKubernetesObject<V1ObjectMeta>
{
    private const string BackoffKey = "watch";

    private readonly IListWatch<T> _source;
    private readonly InformerOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, T> _cache = new();
    // Writes of our own the watch has not delivered yet: the object written, or null for a deletion.
    private readonly ConcurrentDictionary<string, Assumption> _assumed = new();
    private readonly object _delivery = new();
    private readonly TaskCompletionSource _synced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ExponentialBackoff<string> _backoff;
    private int _lists;
    private int _watches;
    private int _started;
    private string? _resourceVersion;

    public Informer(IListWatch<T> source, InformerOptions? options = null, ILogger? logger = null)
    {
        _source = source;
        _options = options ?? new InformerOptions();
        _logger = logger ?? NullLogger.Instance;
        _backoff = new ExponentialBackoff<string>(_options.MinErrorBackoff, _options.MaxErrorBackoff);
    }

    public event Action<T>? Added;

    /// <summary>Old and new state; a resync delivers the same object as both.</summary>
    public event Action<T, T>? Updated;

    /// <summary>The last state the cache held for the deleted object.</summary>
    public event Action<T>? Deleted;

    public string Resource => _source.Resource;

    public bool HasSynced => _synced.Task.IsCompleted;

    public int Count => _cache.Count;

    /// <summary>How many times the informer has listed (1 after the initial sync; each 410 Gone adds one).</summary>
    public int ListCount => Volatile.Read(ref _lists);

    /// <summary>How many watches the informer has opened.</summary>
    public int WatchCount => Volatile.Read(ref _watches);

    /// <summary>The resource version the next watch resumes from.</summary>
    public string? LastResourceVersion => Volatile.Read(ref _resourceVersion);

    /// <summary>The object as last written by us (see <see cref="Assume"/>) or else as last delivered by the watch.</summary>
    public T? Get(string key)
    {
        _cache.TryGetValue(key, out var cached);
        if (_assumed.TryGetValue(key, out var assumed) && !CaughtUp(cached, assumed)) return assumed.Object;
        return cached;
    }

    public T? Get(ObjectKey key) => Get(key.ToString());

    /// <summary>Every object, with our own writes that the watch has not delivered yet in place of their older state.</summary>
    public IReadOnlyList<T> List()
    {
        if (_assumed.IsEmpty) return _cache.Values.ToList();
        var result = new List<T>(_cache.Count);
        foreach (var (key, cached) in _cache)
        {
            if (_assumed.TryGetValue(key, out var assumed) && !CaughtUp(cached, assumed))
            {
                if (assumed.Object is { } written) result.Add(written);
                continue;
            }
            result.Add(cached);
        }
        foreach (var (key, assumed) in _assumed)
            if (assumed.Object is { } written && !_cache.ContainsKey(key))
                result.Add(written);
        return result;
    }

    /// <summary>
    /// Records <paramref name="written"/>, as the API server answered a create, update or status write, as the
    /// newest state of its key until the watch delivers that resourceVersion or a newer one.
    /// </summary>
    public void Assume(T written)
    {
        ArgumentNullException.ThrowIfNull(written);
        written = Transformed(written);
        var key = ObjectKey.KeyOf(written);
        lock (_delivery)
        {
            if (!CaughtUp(_cache.GetValueOrDefault(key), new Assumption(written, written.Metadata?.ResourceVersion)))
                _assumed[key] = new Assumption(written, written.Metadata?.ResourceVersion);
        }
    }

    /// <summary>
    /// Records that we deleted <paramref name="deleted"/> (as last seen): <see cref="Get(string)"/> answers null for it
    /// until the watch delivers the deletion, or a newer object under the same key (one made again since).
    /// </summary>
    public void AssumeDeleted(T deleted)
    {
        ArgumentNullException.ThrowIfNull(deleted);
        var key = ObjectKey.KeyOf(deleted);
        lock (_delivery)
        {
            if (_cache.ContainsKey(key) || _assumed.ContainsKey(key))
                _assumed[key] = new Assumption(null, deleted.Metadata?.ResourceVersion);
        }
    }

    public Task WaitForSyncAsync(CancellationToken cancellationToken) => _synced.Task.WaitAsync(cancellationToken);

    /// <summary>Runs until <paramref name="cancellationToken"/> is cancelled; failures are logged and retried with backoff.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
            throw new InvalidOperationException($"informer for {Resource} is already running; create one informer per run");
        using var resync = StartResync();
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (LastResourceVersion is null)
                    await RelistAsync(cancellationToken).ConfigureAwait(false);
                var received = await WatchAsync(LastResourceVersion!, cancellationToken).ConfigureAwait(false);
                if (received)
                {
                    _backoff.Forget(BackoffKey);
                }
                else
                {
                    // A stream that closes without a single event, again and again, must not become a busy loop.
                    await Task.Delay(_backoff.When(BackoffKey), cancellationToken).ConfigureAwait(false);
                }
            }
            catch (ResourceExpiredException expired)
            {
                _logger.LogInformation("{Resource}: {Message}; listing again", Resource, expired.Message);
                Volatile.Write(ref _resourceVersion, null);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception error)
            {
                var delay = _backoff.When(BackoffKey);
                // A server that is down or restarting is expected; its stack trace says nothing the message does not.
                _logger.LogWarning("{Resource}: list/watch failed from resourceVersion {ResourceVersion}; retrying in {Delay}: {Error}",
                    Resource, LastResourceVersion, delay, error.GetBaseException().Message);
                _logger.LogDebug(error, "{Resource}: list/watch failure detail", Resource);
                try
                {
                    await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    private async Task RelistAsync(CancellationToken cancellationToken)
    {
        var list = await _source.ListAsync(Transformed, cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref _lists);
        lock (_delivery)
        {
            var fresh = new Dictionary<string, T>();
            foreach (var item in list.Items)
                fresh[ObjectKey.KeyOf(item)] = item;
            foreach (var (key, old) in _cache)
            {
                if (!fresh.ContainsKey(key))
                {
                    _cache.TryRemove(key, out _);
                    _assumed.TryRemove(key, out _);
                    Deliver(() => Deleted?.Invoke(old), "delete", key);
                }
            }
            foreach (var (key, item) in fresh)
                Upsert(key, item);
            Volatile.Write(ref _resourceVersion, list.ResourceVersion);
        }
        _synced.TrySetResult();
        _logger.LogDebug("{Resource}: listed {Count} objects at resourceVersion {ResourceVersion}", Resource, list.Items.Count, list.ResourceVersion);
    }

    private async Task<bool> WatchAsync(string resourceVersion, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _watches);
        var received = false;
        await foreach (var (type, delivered) in _source.WatchAsync(resourceVersion, cancellationToken).ConfigureAwait(false))
        {
            received = true;
            var obj = Transformed(delivered);
            lock (_delivery)
            {
                switch (type)
                {
                    case WatchEventKind.Added:
                    case WatchEventKind.Modified:
                        Upsert(ObjectKey.KeyOf(obj), obj);
                        break;
                    case WatchEventKind.Deleted:
                        var key = ObjectKey.KeyOf(obj);
                        _assumed.TryRemove(key, out _);
                        if (_cache.TryRemove(key, out _))
                            Deliver(() => Deleted?.Invoke(obj), "delete", key);
                        break;
                    case WatchEventKind.Bookmark:
                        break;
                    default:
                        throw new InvalidOperationException($"watch of {Resource} delivered an unexpected {type} event");
                }
                if (obj.Metadata?.ResourceVersion is { Length: > 0 } version)
                    Volatile.Write(ref _resourceVersion, version);
            }
        }
        return received;
    }

    private T Transformed(T item) => _options.Transform is { } transform ? (T)transform(item) : item;

    private void Upsert(string key, T item)
    {
        if (_assumed.TryGetValue(key, out var assumed) && CaughtUp(item, assumed))
            _assumed.TryRemove(key, out _);
        if (_cache.TryGetValue(key, out var old))
        {
            if (old.Metadata?.ResourceVersion == item.Metadata?.ResourceVersion)
                return;
            _cache[key] = item;
            Deliver(() => Updated?.Invoke(old, item), "update", key);
        }
        else
        {
            _cache[key] = item;
            Deliver(() => Added?.Invoke(item), "add", key);
        }
    }

    /// <summary>
    /// True when <paramref name="cached"/> is the assumed write or newer. Resource versions are compared as
    /// numbers when both are (as every Kubernetes API server issues them, and as kube-scheduler's assume cache
    /// relies on), otherwise only an equal version counts; an assumed deletion is caught up once the key is gone.
    /// </summary>
    private static bool CaughtUp(T? cached, Assumption assumed)
    {
        if (cached is null) return assumed.Object is null;
        var have = cached.Metadata?.ResourceVersion;
        if (long.TryParse(have, out var cachedVersion) && long.TryParse(assumed.ResourceVersion, out var assumedVersion))
            return assumed.Object is null ? cachedVersion > assumedVersion : cachedVersion >= assumedVersion;
        return assumed.Object is not null && have == assumed.ResourceVersion;
    }

    private sealed record Assumption(T? Object, string? ResourceVersion);

    private void Deliver(Action handler, string what, string key)
    {
        try
        {
            handler();
        }
        catch (Exception error)
        {
            // One faulty handler must not stop the cache from following the server.
            _logger.LogError(error, "{Resource}: {What} handler for {Key} failed", Resource, what, key);
        }
    }

    private ITimer? StartResync()
    {
        if (_options.ResyncPeriod is not { } period || period <= TimeSpan.Zero)
            return null;
        return TimeProvider.System.CreateTimer(_ =>
        {
            if (!HasSynced)
                return;
            lock (_delivery)
            {
                foreach (var (key, obj) in _cache)
                    Deliver(() => Updated?.Invoke(obj, obj), "resync", key);
            }
        }, null, period, period);
    }
}
