using System.Collections.Concurrent;
using System.Net;

namespace Trellis.Local.Connectivity;

public sealed record UnreachablePair(string From, string To, string Address);

/// <summary>Who reaches whom: every pod pings every other pod's every address.</summary>
public sealed record ConnectivityResult(IReadOnlyList<PodEndpoint> Pods, IReadOnlySet<(string From, string To)> Reachable, IReadOnlyList<UnreachablePair> Failures)
{
    public int Pairs => Pods.Count * (Pods.Count - 1);
    public int ReachableCount => Reachable.Count;
    public int UnreachableCount => Pairs - ReachableCount;
    public bool Complete => UnreachableCount == 0;
}

public static class ConnectivityMatrix
{
    /// <summary>A pair counts as reachable when every address of the target answers.</summary>
    public static ConnectivityResult Measure(IReadOnlyList<PodEndpoint> pods, TimeSpan timeout)
    {
        var reachable = new ConcurrentDictionary<(string, string), byte>();
        var failures = new ConcurrentBag<UnreachablePair>();
        Parallel.ForEach(pods, new ParallelOptions { MaxDegreeOfParallelism = 8 }, source =>
        {
            using var probe = IcmpProbe.OpenIn(source.NamespacePath);
            foreach (var target in pods.Where(p => p.Key != source.Key))
            {
                bool all = true;
                foreach (var address in target.Addresses)
                {
                    if (probe.Ping(address, timeout)) continue;
                    all = false;
                    failures.Add(new UnreachablePair(source.Key, target.Key, address.ToString()));
                }
                if (all) reachable[(source.Key, target.Key)] = 0;
            }
        });
        return new ConnectivityResult(pods, reachable.Keys.ToHashSet(), failures.OrderBy(f => f.From).ThenBy(f => f.To).ToList());
    }
}
