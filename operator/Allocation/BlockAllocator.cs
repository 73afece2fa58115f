using Trellis.Addressing;
using System.Net.Sockets;

namespace Trellis.Operator.Allocation;

/// <summary>
/// Who holds which block, for every PodNetwork at once. Pure and single-threaded: callers
/// serialise access. Rules: a node keeps its block for as long as it holds it; a new block is
/// the lowest free one of the family, ranges taken in spec order; no two blocks in use ever
/// overlap, within or across networks, whatever the networks' definitions say; blocks restored
/// from existing NodeSubnets are honoured as they are, even when not the lowest.
/// </summary>
public sealed class BlockAllocator
{
    private readonly BlockRegistry _registry = new();
    private readonly Dictionary<string, PoolDefinition> _definitions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<RangeBlocks>> _pools = new(StringComparer.Ordinal);

    // network → node → the node's blocks, in the order they were given.
    private readonly Dictionary<string, Dictionary<string, List<Cidr>>> _held = new(StringComparer.Ordinal);

    // Extra blocks leaving their node: still held (so never handed out twice) until their NodeSubnet drops them.
    private readonly HashSet<Cidr> _retiring = new();

    /// <summary>Defines a network or changes its definition (an appended range, a new block length, validity).</summary>
    public void DefinePool(PoolDefinition definition)
    {
        if (_definitions.TryGetValue(definition.Network, out var current) && current.Equivalent(definition)) return;
        _definitions[definition.Network] = definition;
        var ranges = definition.Ranges
            .Select(range => new RangeBlocks(range, definition.BlockSizeFor(range.Family)))
            .ToList();
        // Only the network's own blocks of exactly the pool's length are taken here; any other
        // block in use is found by the overlap check when its index comes up, and shadowed then.
        if (_held.TryGetValue(definition.Network, out var nodes))
            foreach (var block in nodes.Values.SelectMany(blocks => blocks))
                TakeExactIndex(ranges, block);
        _pools[definition.Network] = ranges;
    }

    /// <summary>Forgets a network's definition and releases every block it holds.</summary>
    public void RemovePool(string network)
    {
        if (_held.TryGetValue(network, out var nodes))
            foreach (var node in nodes.Keys.ToList())
                Release(network, node);
        _definitions.Remove(network);
        _pools.Remove(network);
    }

    public bool IsDefined(string network) => _definitions.ContainsKey(network);

    /// <summary>Records a block a node already holds (from an existing NodeSubnet).</summary>
    public RestoreResult Restore(string network, string node, Cidr block)
    {
        if (_registry.TryGetOwner(block, out var owner) && owner == new BlockOwner(network, node))
            return new RestoreResult(RestoreOutcome.AlreadyHeld, null);
        if (_registry.TryFindOverlap(block, out var overlap))
        {
            var holder = _registry.TryGetOwner(overlap.Value, out var other) ? $"node {other.Node} of PodNetwork {other.Network}" : "another node";
            return new RestoreResult(RestoreOutcome.Conflict,
                $"block {block} of node {node} in PodNetwork {network} overlaps {overlap} held by {holder}; it is not honoured");
        }
        Record(network, node, block);
        if (_pools.TryGetValue(network, out var ranges)) TakeExactIndex(ranges, block);
        return new RestoreResult(RestoreOutcome.Restored, null);
    }

    /// <summary>
    /// The node's block of the family: the one it holds, or the lowest free one that holds none of
    /// <paramref name="avoid"/> (the Nodes' own addresses: a pod bridge must never take a node's address).
    /// </summary>
    public AllocationResult Allocate(string network, string node, AddressFamily family, AddressSet? avoid = null)
    {
        foreach (var block in BlocksOf(network, node))
            if (block.Family == family) return AllocationResult.Existing(network, block);
        return Take(network, node, family, avoid);
    }

    /// <summary>Another block of the family for a node that already holds one (it runs low): the lowest free one, as for a first block.</summary>
    public AllocationResult AllocateAnother(string network, string node, AddressFamily family, AddressSet? avoid = null) =>
        Take(network, node, family, avoid);

    /// <summary>
    /// Marks one extra block of a node as leaving: it stays the node's (no other node may get it) until
    /// <see cref="ReleaseBlock"/>, which the planner calls once the node's NodeSubnet no longer lists it.
    /// </summary>
    public void Retire(string network, string node, Cidr block)
    {
        if (BlocksOf(network, node).Contains(block)) _retiring.Add(block);
    }

    public bool IsRetiring(Cidr block) => _retiring.Contains(block);

    /// <summary>Returns one block of the node to the pool; the node keeps its others.</summary>
    public void ReleaseBlock(string network, string node, Cidr block)
    {
        if (!_held.TryGetValue(network, out var nodes) || !nodes.TryGetValue(node, out var blocks) || !blocks.Remove(block)) return;
        if (blocks.Count == 0)
        {
            nodes.Remove(node);
            if (nodes.Count == 0) _held.Remove(network);
        }
        Return(network, block);
    }

    private AllocationResult Take(string network, string node, AddressFamily family, AddressSet? avoid)
    {
        var name = IpFamilyName.Of(family);
        if (!_definitions.TryGetValue(network, out var definition))
            return AllocationResult.Failed(AllocationOutcome.Refused, network, family, $"PodNetwork {network} is not known to the allocator");
        if (!definition.Valid)
            return AllocationResult.Failed(AllocationOutcome.Refused, network, family, $"PodNetwork {network} is not valid; no block is handed out from it");
        var pool = _pools[network];
        bool any = false;
        foreach (var range in pool)
        {
            if (range.Range.Family != family) continue;
            any = true;
            // Blocks holding a node address stay free (the address may move away again) but are passed over.
            var passedOver = new List<UInt128>();
            try
            {
                while (range.TryTakeLowest(out var index))
                {
                    var block = range.BlockAt(index);
                    if (_registry.TryFindOverlap(block, out _))
                    {
                        range.Shadowed.Add(index);
                        continue;
                    }
                    if (avoid?.AnyIn(block) == true)
                    {
                        passedOver.Add(index);
                        continue;
                    }
                    Record(network, node, block);
                    return AllocationResult.Allocated(network, block);
                }
            }
            finally
            {
                foreach (var index in passedOver) range.Free(index);
            }
        }
        if (!any)
            return AllocationResult.Failed(AllocationOutcome.Refused, network, family, $"PodNetwork {network} has no {name} range");
        var ranges = pool.Where(range => range.Range.Family == family).ToList();
        var total = SaturatingTotal(ranges);
        return AllocationResult.Failed(AllocationOutcome.Exhausted, network, family,
            $"PodNetwork {network} has no free {name} /{definition.BlockSizeFor(family)} block left in {string.Join(", ", ranges.Select(r => r.Range))} " +
            $"({Allocated(network, family)} held, {total} in all); append a range or remove a node");
    }

    /// <summary>Returns every block the node holds in the network to the pool.</summary>
    public void Release(string network, string node)
    {
        if (!_held.TryGetValue(network, out var nodes) || !nodes.Remove(node, out var blocks)) return;
        if (nodes.Count == 0) _held.Remove(network);
        foreach (var block in blocks) Return(network, block);
    }

    private void Return(string network, Cidr block)
    {
        _retiring.Remove(block);
        _registry.Remove(block);
        if (_pools.TryGetValue(network, out var own))
            foreach (var range in own)
                if (range.TryIndexOf(block, out var index) && !range.Shadowed.Contains(index))
                    range.Free(index);
        RecheckShadowed(block);
    }

    public IReadOnlyList<Cidr> BlocksOf(string network, string node) =>
        _held.TryGetValue(network, out var nodes) && nodes.TryGetValue(node, out var blocks) ? blocks : [];

    /// <summary>Every (node, blocks) the network holds.</summary>
    public IReadOnlyDictionary<string, List<Cidr>> Holdings(string network) =>
        _held.TryGetValue(network, out var nodes) ? nodes : new Dictionary<string, List<Cidr>>();

    public long Allocated(string network) =>
        _held.TryGetValue(network, out var nodes) ? nodes.Values.Sum(blocks => (long)blocks.Count) : 0;

    public long Allocated(string network, AddressFamily family) =>
        _held.TryGetValue(network, out var nodes) ? nodes.Values.Sum(blocks => (long)blocks.Count(b => b.Family == family)) : 0;

    /// <summary>Blocks the network's ranges hold in all, saturating at long.MaxValue.</summary>
    public long Total(string network) => _pools.TryGetValue(network, out var ranges) ? SaturatingTotal(ranges) : 0;

    private void Record(string network, string node, Cidr block)
    {
        _registry.Add(block, new BlockOwner(network, node));
        if (!_held.TryGetValue(network, out var nodes)) _held[network] = nodes = new Dictionary<string, List<Cidr>>(StringComparer.Ordinal);
        if (!nodes.TryGetValue(node, out var blocks)) nodes[node] = blocks = new List<Cidr>(2);
        blocks.Add(block);
    }

    private static void TakeExactIndex(List<RangeBlocks> ranges, Cidr block)
    {
        foreach (var range in ranges)
            if (range.TryIndexOf(block, out var index))
            {
                range.Shadowed.Remove(index);
                range.Take(index);
                return;
            }
    }

    /// <summary>Indices shadowed by a block that is now gone become free again when nothing else overlaps them.</summary>
    private void RecheckShadowed(Cidr released)
    {
        foreach (var ranges in _pools.Values)
            foreach (var range in ranges)
            {
                if (range.Shadowed.Count == 0 || !range.TrySpanOf(released, out var first, out var last)) continue;
                foreach (var index in range.Shadowed.GetViewBetween(first, last).ToList())
                {
                    if (_registry.TryFindOverlap(range.BlockAt(index), out _)) continue;
                    range.Shadowed.Remove(index);
                    range.Free(index);
                }
            }
    }

    private static long SaturatingTotal(IEnumerable<RangeBlocks> ranges)
    {
        UInt128 total = UInt128.Zero;
        foreach (var range in ranges)
        {
            if (range.Count >= (UInt128)long.MaxValue - total) return long.MaxValue;
            total += range.Count;
        }
        return (long)total;
    }
}
