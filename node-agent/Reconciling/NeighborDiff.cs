using System.Net;
using Trellis.NodeAgent.Planning;

namespace Trellis.NodeAgent.Reconciling;

/// <summary>
/// Neighbour entries to replace (set permanent) and delete on the vxlan device. Entries the kernel
/// made (not permanent) are replaced when in the way; a permanent entry without Trellis's protocol
/// belongs to someone else and is left alone, reported as a conflict when it is in the way.
/// </summary>
public sealed record NeighborDiff(IReadOnlyList<PlannedNeighbor> Replace, IReadOnlyList<IPAddress> Delete, IReadOnlyList<string> Conflicts)
{
    public bool IsEmpty => Replace.Count == 0 && Delete.Count == 0;

    public static NeighborDiff Compute(IReadOnlyList<PlannedNeighbor> desired, IEnumerable<KernelNeighbor> actual)
    {
        var present = new Dictionary<IPAddress, KernelNeighbor>();
        foreach (var neighbor in actual) present.TryAdd(neighbor.Address, neighbor);
        var wanted = desired.Select(d => d.Address).ToHashSet();
        var replace = new List<PlannedNeighbor>();
        var conflicts = new List<string>();
        foreach (var neighbor in desired)
        {
            if (!present.TryGetValue(neighbor.Address, out var current))
            {
                replace.Add(neighbor);
                continue;
            }
            if (current.Permanent && !current.IsTrellis)
            {
                if (current.Mac != neighbor.Mac)
                    conflicts.Add($"neighbour {neighbor.Address} is held by another owner (lladdr {current.Mac?.ToString() ?? "none"}, proto {current.Protocol}); left alone");
                continue;
            }
            if (!current.Permanent || current.Mac != neighbor.Mac) replace.Add(neighbor);
        }
        return new NeighborDiff(replace,
            present.Values.Where(p => p.IsTrellis && !wanted.Contains(p.Address)).Select(p => p.Address).ToList(),
            conflicts);
    }
}
