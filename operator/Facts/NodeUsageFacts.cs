using Trellis.Addressing;
using Trellis.Crds;

namespace Trellis.Operator.Facts;

/// <summary>One block's usage as the node's agent reported it; <paramref name="Drained"/>: closed in its store with nothing in use.</summary>
public sealed record BlockUsage(Cidr Block, long InUse, long Capacity, DateTime? EmptySince, bool Drained = false)
{
    public long Free => Math.Max(0, Capacity - InUse);
}

/// <summary>
/// A NodeSubnet's status read as usage facts, or nothing. The operator decides growth and release only on a report
/// about exactly the spec it wrote: a status that is absent, about an older generation (the agent has not yet seen the
/// block just added or dropped), or silent about a block of the spec, says nothing, so no block is added or taken on it.
/// </summary>
public sealed record NodeUsageFacts(IReadOnlyDictionary<Cidr, BlockUsage> Blocks)
{
    public static NodeUsageFacts? Parse(NodeSubnet subnet)
    {
        var status = subnet.Status;
        if (status?.Blocks is not { } reported || status.ObservedGeneration is null || status.ObservedGeneration != subnet.Metadata.Generation)
            return null;
        var blocks = new Dictionary<Cidr, BlockUsage>();
        foreach (var entry in reported)
        {
            if (!Cidr.TryParse(entry.Cidr, out var block) || entry.AddressesInUse < 0 || entry.AddressCapacity < 0) return null;
            blocks[block] = new BlockUsage(block, entry.AddressesInUse, entry.AddressCapacity,
                entry.EmptySince is { } since ? DateTime.SpecifyKind(since, DateTimeKind.Utc) : null, entry.Drained);
        }
        foreach (var text in subnet.Spec.Cidrs)
            if (!Cidr.TryParse(text, out var block) || !blocks.ContainsKey(block)) return null;
        return new NodeUsageFacts(blocks);
    }
}
