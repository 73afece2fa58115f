using Trellis.NodeAgent.Planning;

namespace Trellis.NodeAgent.Reconciling;

/// <summary>FDB entries to append and delete on the vxlan device; every entry there is Trellis's.</summary>
public sealed record FdbDiff(IReadOnlyList<KernelFdb> Add, IReadOnlyList<KernelFdb> Delete)
{
    public bool IsEmpty => Add.Count == 0 && Delete.Count == 0;

    public static FdbDiff Compute(IReadOnlyList<PlannedFdb> desired, IEnumerable<KernelFdb> actual)
    {
        var present = actual.Distinct().ToList();
        var wanted = desired.Select(d => new KernelFdb(d.Mac, d.Destination)).Distinct().ToList();
        return new FdbDiff(
            wanted.Where(w => !present.Contains(w)).ToList(),
            present.Where(p => !wanted.Contains(p)).ToList());
    }
}
