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
public sealed class Informer<T>(IListWatch<T> source, InformerOptions? options = null, ILogger? logger = null)
    : Informer<T, T>(source, item => item, options, logger)
    where T : class, IKubernetesObject<V1ObjectMeta>;

/// <summary>
/// An <see cref="Informer{T}"/> that caches, and hands its handlers, what <c>project</c> makes of each object rather than
/// the object: a cache of thousands keeps the facts its readers use and lets the API objects go as soon as they are read.
/// The informer keeps each object's key and resourceVersion itself, so a projection need not.
/// </summary>
public class Informer<T, TCached> where T : class, IKubernetesObject<V1ObjectMeta> where TCached : class
{
    private const string BackoffKey = "watch";

    private readonly IListWatch<T> _source;
    private readonly InformerOptions _options;
    private readonly ILogger _logger;
    private readonly Func<T, TCached> _project;
    private readonly ConcurrentDictionary<string, Entry> _cache = new();
    // Writes of our own the watch has not delivered yet: the object written, or null for a deletion.
    private readonly ConcurrentDictionary<string, Assumption> _assumed = new();
    private readonly object _delivery = new();
    private readonly TaskCompletionSource _synced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ExponentialBackoff<string> _backoff;
    private int _lists;
    private int _watches;
    private int _started;
    private string? _resourceVersion;

    public Informer(IListWatch<T> source, Func<T, TCached> project, InformerOptions? options = null, ILogger? logger = null)
    {
        _source = source;
        _project = project;
        _options = options ?? new InformerOptions();
        _logger = logger ?? NullLogger.Instance;
        _backoff = new ExponentialBackoff<string>(_options.MinErrorBackoff, _options.MaxErrorBackoff);
    }

    public event Action<TCached>? Added;

    /// <summary>Old and new state; a resync delivers the same object as both.</summary>
    public event Action<TCached, TCached>? Updated;

    /// <summary>The last state the cache held for the deleted object.</summary>
    public event Action<TCached>? Deleted;

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
    public TCached? Get(string key)
    {
        var found = _cache.TryGetValue(key, out var cached);
        if (_assumed.TryGetValue(key, out var assumed) && !CaughtUp(found ? cached : null, assumed)) return assumed.Object;
        return found ? cached.Value : null;
    }

    public TCached? Get(ObjectKey key) => Get(key.ToString());

    /// <summary>Every object, with our own writes that the watch has not delivered yet in place of their older state.</summary>
    public IReadOnlyList<TCached> List()
    {
        var result = new List<TCached>(_cache.Count);
        if (_assumed.IsEmpty)
        {
            foreach (var (_, cached) in _cache) result.Add(cached.Value);
            return result;
        }
        foreach (var (key, cached) in _cache)
        {
            if (_assumed.TryGetValue(key, out var assumed) && !CaughtUp(cached, assumed))
            {
                if (assumed.Object is { } written) result.Add(written);
                continue;
            }
            result.Add(cached.Value);
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
        var key = ObjectKey.KeyOf(written);
        var assumption = new Assumption(Cached(written), written.Metadata?.ResourceVersion);
        lock (_delivery)
        {
            if (!CaughtUp(_cache.TryGetValue(key, out var cached) ? cached : null, assumption))
                _assumed[key] = assumption;
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
        // Each item is projected as it is decoded: a page of whole objects never waits for the rest of the list.
        var list = await _source.ListAsync(item => (Key: ObjectKey.KeyOf(item), Entry: EntryOf(item)), cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref _lists);
        lock (_delivery)
        {
            var fresh = new Dictionary<string, Entry>();
            foreach (var (key, entry) in list.Items)
                fresh[key] = entry;
            foreach (var (key, old) in _cache)
            {
                if (!fresh.ContainsKey(key))
                {
                    _cache.TryRemove(key, out _);
                    _assumed.TryRemove(key, out _);
                    Deliver(() => Deleted?.Invoke(old.Value), "delete", key);
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
            // A bookmark carries only a resourceVersion: nothing to project.
            var version = delivered.Metadata?.ResourceVersion;
            var entry = type is WatchEventKind.Added or WatchEventKind.Modified or WatchEventKind.Deleted ? EntryOf(delivered) : default;
            lock (_delivery)
            {
                switch (type)
                {
                    case WatchEventKind.Added:
                    case WatchEventKind.Modified:
                        Upsert(ObjectKey.KeyOf(delivered), entry);
                        break;
                    case WatchEventKind.Deleted:
                        var key = ObjectKey.KeyOf(delivered);
                        _assumed.TryRemove(key, out _);
                        if (_cache.TryRemove(key, out _))
                            Deliver(() => Deleted?.Invoke(entry.Value), "delete", key);
                        break;
                    case WatchEventKind.Bookmark:
                        break;
                    default:
                        throw new InvalidOperationException($"watch of {Resource} delivered an unexpected {type} event");
                }
                if (version is { Length: > 0 })
                    Volatile.Write(ref _resourceVersion, version);
            }
        }
        return received;
    }

    /// <summary>What the cache keeps of <paramref name="item"/>: the options' transform, then the projection.</summary>
    private TCached Cached(T item) => _project(_options.Transform is { } transform ? (T)transform(item) : item);

    private Entry EntryOf(T item) => new(Cached(item), item.Metadata?.ResourceVersion);

    private void Upsert(string key, Entry item)
    {
        if (_assumed.TryGetValue(key, out var assumed) && CaughtUp(item, assumed))
            _assumed.TryRemove(key, out _);
        if (_cache.TryGetValue(key, out var old))
        {
            if (old.ResourceVersion == item.ResourceVersion)
                return;
            _cache[key] = item;
            Deliver(() => Updated?.Invoke(old.Value, item.Value), "update", key);
        }
        else
        {
            _cache[key] = item;
            Deliver(() => Added?.Invoke(item.Value), "add", key);
        }
    }

    /// <summary>
    /// True when <paramref name="cached"/> is the assumed write or newer. Resource versions are compared as
    /// numbers when both are (as every Kubernetes API server issues them, and as kube-scheduler's assume cache
    /// relies on), otherwise only an equal version counts; an assumed deletion is caught up once the key is gone.
    /// </summary>
    private static bool CaughtUp(Entry? cached, Assumption assumed)
    {
        if (cached is not { } entry) return assumed.Object is null;
        var have = entry.ResourceVersion;
        if (long.TryParse(have, out var cachedVersion) && long.TryParse(assumed.ResourceVersion, out var assumedVersion))
            return assumed.Object is null ? cachedVersion > assumedVersion : cachedVersion >= assumedVersion;
        return assumed.Object is not null && have == assumed.ResourceVersion;
    }

    private sealed record Assumption(TCached? Object, string? ResourceVersion);

    /// <summary>One cached object: what the projection kept, and the resourceVersion it was at.</summary>
    private readonly record struct Entry(TCached Value, string? ResourceVersion);

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
                foreach (var (key, entry) in _cache)
                    Deliver(() => Updated?.Invoke(entry.Value, entry.Value), "resync", key);
            }
        }, null, period, period);
    }
}
