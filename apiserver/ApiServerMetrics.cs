using System.Collections.Concurrent;

namespace Trellis.ApiServer;

/// <summary>Requests by verb (get, list, watch, create, update, patch, delete) and resource plural, and successful writes.</summary>
public sealed class ApiServerMetrics
{
    private readonly ConcurrentDictionary<(string Verb, string Resource), long> _requests = new();
    private long _writes;

    internal void Count(string verb, string resource) => _requests.AddOrUpdate((verb, resource), 1, (_, n) => n + 1);

    internal void CountWrite() => Interlocked.Increment(ref _writes);

    /// <param name="resource">A resource plural ("nodes", "nodesubnets"); null sums every resource.</param>
    public long Requests(string verb, string? resource = null) =>
        _requests.Where(p => p.Key.Verb == verb && (resource is null || p.Key.Resource == resource)).Sum(p => p.Value);

    public IReadOnlyDictionary<(string Verb, string Resource), long> Snapshot() => new Dictionary<(string, string), long>(_requests);

    /// <summary>Successful create, update, patch and delete requests.</summary>
    public long Writes => Interlocked.Read(ref _writes);

    public void Reset()
    {
        _requests.Clear();
        Interlocked.Exchange(ref _writes, 0);
    }
}
