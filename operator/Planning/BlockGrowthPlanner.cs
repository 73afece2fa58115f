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

/// <summary>What one node's blocks need: families to give another block, extra blocks to release, and when to look again.</summary>
public sealed record BlockGrowthDecision(IReadOnlyList<AddressFamily> Grow, IReadOnlyList<Cidr> Release, IReadOnlyList<AddressFamily> AtMaximum, TimeSpan? RecheckAfter)
{
    public static readonly BlockGrowthDecision None = new([], [], [], null);
}

/// <summary>
/// Decides, for one node, whether a family gets another block or gives an extra one back. Pure. Rules: nothing is
/// decided without a current usage report (<see cref="NodeUsageFacts"/>); a family grows when its free addresses over
/// all its blocks run low (<see cref="BlockGrowthPolicy.RunsLow"/>) and it holds fewer than maxBlocksPerNode; a
/// block is released only when it is not the node's first of its family, the agent reports it empty and has done so
/// for releaseEmptyAfter, and the family would not run low without it (else it would grow straight back); a
/// family that grows releases nothing.
/// </summary>
public static class BlockGrowthPlanner
{
    /// <param name="blocks">The node's blocks in the order they were given (its first of each family first).</param>
    public static BlockGrowthDecision Decide(IReadOnlyList<Cidr> blocks, NodeUsageFacts? usage, BlockGrowthPolicy policy, DateTime now)
    {
        if (usage is null || blocks.Count == 0) return BlockGrowthDecision.None;
        var grow = new List<AddressFamily>();
        var release = new List<Cidr>();
        var atMaximum = new List<AddressFamily>();
        TimeSpan? recheck = null;
        foreach (var family in blocks.Select(b => b.Family).Distinct())
        {
            var own = blocks.Where(b => b.Family == family).ToList();
            if (!own.All(usage.Blocks.ContainsKey)) continue;
            long capacity = own.Sum(b => usage.Blocks[b].Capacity);
            long free = own.Sum(b => usage.Blocks[b].Free);
            if (policy.RunsLow(free, capacity))
            {
                if (own.Count < policy.MaxBlocksPerNode) grow.Add(family);
                else atMaximum.Add(family);
                continue;
            }
            // The newest extra block first: releasing it is what undoes the most recent growth.
            for (int i = own.Count - 1; i >= 1; i--)
            {
                var block = usage.Blocks[own[i]];
                if (block.InUse != 0 || block.EmptySince is not { } since) continue;
                var waited = now - since;
                if (waited < policy.ReleaseEmptyAfter)
                {
                    var left = policy.ReleaseEmptyAfter - waited;
                    recheck = recheck is null || left < recheck ? left : recheck;
                    continue;
                }
                if (policy.RunsLow(free - block.Free, capacity - block.Capacity)) continue;
                release.Add(own[i]);
                free -= block.Free;
                capacity -= block.Capacity;
            }
        }
        return new BlockGrowthDecision(grow, release, atMaximum, recheck);
    }
}
