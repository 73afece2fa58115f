using Trellis.NodeAgent.Planning;

namespace Trellis.NodeAgent.Reconciling;

/// <summary>
/// FDB entries to append and delete on the vxlan device. VXLAN FDB entries carry no protocol, so
/// Trellis's own are those whose MAC is a derived VTEP address; entries anyone else added are left alone.
/// </summary>
public sealed record FdbDiff(IReadOnlyList<KernelFdb> Add, IReadOnlyList<KernelFdb> Delete)
{
    public bool IsEmpty => Add.Count == 0 && Delete.Count == 0;

    public static FdbDiff Compute(IReadOnlyList<PlannedFdb> desired, IEnumerable<KernelFdb> actual)
    {
        var present = actual.Distinct().ToList();
        var wanted = desired.Select(d => new KernelFdb(d.Mac, d.Destination)).Distinct().ToList();
        return new FdbDiff(
            wanted.Where(w => !present.Contains(w)).ToList(),
            present.Where(p => p.Mac.IsVtep && !wanted.Contains(p)).ToList());
    }
}
