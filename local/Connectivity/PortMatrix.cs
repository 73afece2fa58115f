using System.Collections.Concurrent;
using Trellis.Local.Pods;

namespace Trellis.Local.Connectivity;

/// <summary>One port and protocol probed from every pod to every pod that declares it.</summary>
/// <param name="Results">Per (from, to) key pair; pairs whose target does not declare the port are absent.</param>
public sealed record PortMatrixResult(ServedPort Port, IReadOnlyList<PodEndpoint> Pods, IReadOnlyDictionary<(string From, string To), ProbeResult> Results)
{
    /// <summary>A pair passes when the target answered with its own namespace/name.</summary>
    public bool Passed(string from, string to) =>
        Results.TryGetValue((from, to), out var result) && result.Connected && result.Detail == to;

    public int Probed => Results.Count;
    public int PassedCount => Results.Count(r => Passed(r.Key.From, r.Key.To));
}

public static class PortMatrix
{
    /// <summary>The ports declared by any of <paramref name="pods"/>, by protocol then number.</summary>
    public static IReadOnlyList<ServedPort> DeclaredPorts(IEnumerable<PodEndpoint> pods) =>
        pods.SelectMany(p => p.Ports).Distinct().OrderBy(p => p.Protocol, StringComparer.Ordinal).ThenBy(p => p.Port).ToList();

    public static async Task<PortMatrixResult> MeasureAsync(IReadOnlyList<PodEndpoint> pods, ServedPort port, TimeSpan timeout, CancellationToken ct)
    {
        var results = new ConcurrentDictionary<(string, string), ProbeResult>();
        var pairs = pods.SelectMany(from => pods.Where(to => to.Key != from.Key && to.Ports.Contains(port)).Select(to => (from, to)));
        await Parallel.ForEachAsync(pairs, new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = ct }, async (pair, token) =>
            results[(pair.from.Key, pair.to.Key)] = await PodProber.ProbeAsync(pair.from, pair.to, port.Port, port.Protocol, timeout, token));
        return new PortMatrixResult(port, pods, results);
    }
}
