using System.Net;
using Trellis.NodeAgent.Planning;

namespace Trellis.NodeAgent.Reconciling;

/// <summary>Neighbour entries to replace (set permanent) and delete on the vxlan device.</summary>
public sealed record NeighborDiff(IReadOnlyList<PlannedNeighbor> Replace, IReadOnlyList<IPAddress> Delete)
{
    public bool IsEmpty => Replace.Count == 0 && Delete.Count == 0;

    public static NeighborDiff Compute(IReadOnlyList<PlannedNeighbor> desired, IEnumerable<KernelNeighbor> actual)
    {
        var present = new Dictionary<IPAddress, KernelNeighbor>();
        foreach (var neighbor in actual) present.TryAdd(neighbor.Address, neighbor);
        var wanted = desired.Select(d => d.Address).ToHashSet();
        return new NeighborDiff(
            desired.Where(d => !present.TryGetValue(d.Address, out var p) || !p.Permanent || p.Mac != d.Mac).ToList(),
            present.Values.Where(p => p.IsTrellis && !wanted.Contains(p.Address)).Select(p => p.Address).ToList());
    }
}
