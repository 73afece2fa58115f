using Trellis.Addressing;

namespace Trellis.NodeAgent.Reconciling;

/// <summary>Addresses to add to and remove from one of Trellis's own devices (IPv6 link-local ones belong to the kernel).</summary>
public sealed record AddressDiff(IReadOnlyList<IpPrefix> Add, IReadOnlyList<IpPrefix> Delete)
{
    public bool IsEmpty => Add.Count == 0 && Delete.Count == 0;

    public static AddressDiff Compute(IReadOnlyList<IpPrefix> desired, IEnumerable<IpPrefix> actual)
    {
        var present = actual.Where(a => !a.Address.IsIPv6LinkLocal).ToList();
        return new AddressDiff(
            desired.Where(d => !present.Contains(d)).Distinct().ToList(),
            present.Where(p => !desired.Contains(p)).ToList());
    }
}
