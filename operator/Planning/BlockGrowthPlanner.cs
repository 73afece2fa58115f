using System.Net.Sockets;
using Trellis.Addressing;
using Trellis.Crds;
using Trellis.Operator.Facts;

namespace Trellis.Operator.Planning;

/// <summary>spec.maxBlocksPerNode and spec.blockGrowth, read once.</summary>
public sealed record BlockGrowthPolicy(int MinFreeAddresses, int MinFreePercent, int MaxBlocksPerNode, TimeSpan ReleaseEmptyAfter)
{
    public static BlockGrowthPolicy Of(PodNetworkSpec spec)
    {
        var growth = spec.BlockGrowth ?? new BlockGrowth();
        return new BlockGrowthPolicy(growth.MinFreeAddresses, growth.MinFreePercent, spec.MaxBlocksPerNode,
            TimeSpan.FromSeconds(growth.ReleaseEmptyAfterSeconds));
    }

    /// <summary>True when a family with this capacity and this many free addresses must grow: fewer free than the minimum, or than the percentage.</summary>
    public bool RunsLow(long free, long capacity) =>
        free < MinFreeAddresses || (Int128)free * 100 < (Int128)MinFreePercent * capacity;
}

/// <summary>
/// What one node's blocks need: families to give another block; extra blocks to start draining (closed to new pods),
/// to open again (a pod got in before the close, or the family runs low), and to release (drained); when to look again.
/// </summary>
public sealed record BlockGrowthDecision(IReadOnlyList<AddressFamily> Grow, IReadOnlyList<Cidr> Release, IReadOnlyList<AddressFamily> AtMaximum, TimeSpan? RecheckAfter)
{
    public static readonly BlockGrowthDecision None = new([], [], [], null);

    public IReadOnlyList<Cidr> Drain { get; init; } = [];
    public IReadOnlyList<Cidr> Undrain { get; init; } = [];
}

/// <summary>
/// Decides, for one node, whether a family gets another block or gives an extra one back. Pure. Rules: nothing is
/// decided without a current usage report (<see cref="NodeUsageFacts"/>). Free addresses count in open blocks only
/// (a draining block takes no new pod). A family whose free addresses run low (<see cref="BlockGrowthPolicy.RunsLow"/>)
/// first opens its draining blocks again, else grows while it holds fewer than maxBlocksPerNode; it releases nothing.
/// Otherwise an extra block leaves in two steps, so that no pod ever gets an address in a block on its way to another
/// node: it drains once it is not the node's first of its family, has been reported empty for releaseEmptyAfter, and
/// the family would not run low without it; it is released once the agent reports it drained (closed in the node's
/// store with nothing in use), or opened again if the agent found an address in it (a pod got in before the close).
/// </summary>
public static class BlockGrowthPlanner
{
    /// <param name="blocks">The node's blocks in the order they were given (its first of each family first).</param>
    /// <param name="draining">Which of them the NodeSubnet lists as draining.</param>
    public static BlockGrowthDecision Decide(IReadOnlyList<Cidr> blocks, NodeUsageFacts? usage, BlockGrowthPolicy policy, DateTime now,
        IReadOnlySet<Cidr>? draining = null)
    {
        draining ??= new HashSet<Cidr>();
        if (usage is null || blocks.Count == 0) return BlockGrowthDecision.None;
        var grow = new List<AddressFamily>();
        var drain = new List<Cidr>();
        var undrain = new List<Cidr>();
        var release = new List<Cidr>();
        var atMaximum = new List<AddressFamily>();
        TimeSpan? recheck = null;
        foreach (var family in blocks.Select(b => b.Family).Distinct())
        {
            var own = blocks.Where(b => b.Family == family).ToList();
            if (!own.All(usage.Blocks.ContainsKey)) continue;
            var open = own.Where((b, i) => i == 0 || !draining.Contains(b)).ToList();
            var closing = own.Except(open).ToList();
            long capacity = open.Sum(b => usage.Blocks[b].Capacity);
            long free = open.Sum(b => usage.Blocks[b].Free);
            if (policy.RunsLow(free, capacity))
            {
                if (closing.Count > 0) undrain.AddRange(closing);
                else if (own.Count < policy.MaxBlocksPerNode) grow.Add(family);
                else atMaximum.Add(family);
                continue;
            }
            foreach (var block in closing)
            {
                var reported = usage.Blocks[block];
                if (reported.InUse > 0) undrain.Add(block);
                else if (reported.Drained) release.Add(block);
            }
            // The newest extra block first: draining it is what undoes the most recent growth.
            for (int i = open.Count - 1; i >= 1; i--)
            {
                var block = usage.Blocks[open[i]];
                if (block.InUse != 0 || block.EmptySince is not { } since) continue;
                var waited = now - since;
                if (waited < policy.ReleaseEmptyAfter)
                {
                    var left = policy.ReleaseEmptyAfter - waited;
                    recheck = recheck is null || left < recheck ? left : recheck;
                    continue;
                }
                if (policy.RunsLow(free - block.Free, capacity - block.Capacity)) continue;
                drain.Add(open[i]);
                free -= block.Free;
                capacity -= block.Capacity;
            }
        }
        return new BlockGrowthDecision(grow, release, atMaximum, recheck) { Drain = drain, Undrain = undrain };
    }
}
