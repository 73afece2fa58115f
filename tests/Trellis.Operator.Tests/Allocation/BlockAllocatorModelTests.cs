using Trellis.Addressing;
using System.Net.Sockets;
using Trellis.Operator.Allocation;
using Xunit;

namespace Trellis.Operator.Tests.Allocation;

/// <summary>
/// Random operations against the allocator and a naive reference that scans every candidate
/// block against every held block; both must agree on every answer, and blocks must never overlap.
/// The pools are tiny and overlap each other so that exhaustion, shadowing and appended ranges happen often.
/// </summary>
public sealed class BlockAllocatorModelTests
{
    private static readonly string[] Nodes = ["n0", "n1", "n2", "n3", "n4", "n5", "n6", "n7", "n8"];

    private static readonly PoolDefinition[][] Variants =
    [
        [
            Define("a", 28, 124, "10.0.0.0/26"),
            Define("a", 28, 124, "10.0.0.0/26", "10.0.0.64/27"),
            Define("a", 27, 124, "10.0.0.0/26", "10.0.0.64/27"),
            Define("a", 28, 124, "10.0.0.0/26") with { Valid = false },
        ],
        [
            Define("b", 29, 124, "10.0.0.32/27", "10.0.1.0/28"),
            Define("b", 30, 124, "10.0.0.32/27", "10.0.1.0/28", "10.0.0.0/28"),
        ],
        [
            Define("c", 30, 126, "10.0.1.0/28", "fd00::/124"),
            Define("c", 30, 126, "10.0.1.0/28", "fd00::/124", "fd00::10/124"),
            Define("c", 30, 125, "10.0.1.0/28", "fd00::/124"),
        ],
    ];

    private static PoolDefinition Define(string name, int v4, int v6, params string[] ranges) =>
        new(name, ranges.Select(Cidr.Parse).ToList(), v4, v6, Valid: true);

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Allocator_agrees_with_the_naive_reference(int seed)
    {
        var random = new Random(seed);
        var allocator = new BlockAllocator();
        var model = new NaiveAllocator();
        foreach (var variants in Variants)
        {
            allocator.DefinePool(variants[0]);
            model.Define(variants[0]);
        }

        for (int step = 0; step < 600; step++)
        {
            var variants = Variants[random.Next(Variants.Length)];
            var network = variants[0].Network;
            var node = Nodes[random.Next(Nodes.Length)];
            int op = random.Next(100);
            string what;
            if (op < 55)
            {
                var family = random.Next(3) == 0 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;
                what = $"allocate {network}/{node}/{family}";
                var expected = model.Allocate(network, node, family);
                var actual = allocator.Allocate(network, node, family);
                Assert.True(expected.Outcome == actual.Outcome && expected.Block == actual.Block,
                    $"seed {seed} step {step} {what}: expected {expected.Outcome} {expected.Block}, got {actual.Outcome} {actual.Block}");
            }
            else if (op < 85)
            {
                what = $"release {network}/{node}";
                model.Release(network, node);
                allocator.Release(network, node);
            }
            else if (op < 95)
            {
                var definition = variants[random.Next(variants.Length)];
                what = $"define {definition}";
                model.Define(definition);
                allocator.DefinePool(definition);
            }
            else
            {
                what = "restart";
                allocator = Restarted(model, random);
            }
            AssertSameHoldings(model, allocator, $"seed {seed} step {step} after {what}");
        }
    }

    public static IEnumerable<object[]> Seeds() => Enumerable.Range(1, 40).Select(seed => new object[] { seed });

    /// <summary>A new allocator rebuilt from what the model says is held, restored in a random order.</summary>
    private static BlockAllocator Restarted(NaiveAllocator model, Random random)
    {
        var allocator = new BlockAllocator();
        var held = model.Held.OrderBy(_ => random.Next()).ToList();
        // Half the time blocks are restored before the pools are defined, as when NodeSubnets sync first.
        bool restoreFirst = random.Next(2) == 0;
        if (!restoreFirst) foreach (var definition in model.Definitions.Values) allocator.DefinePool(definition);
        foreach (var (network, node, block) in held)
            Assert.Equal(RestoreOutcome.Restored, allocator.Restore(network, node, block).Outcome);
        if (restoreFirst) foreach (var definition in model.Definitions.Values) allocator.DefinePool(definition);
        return allocator;
    }

    private static void AssertSameHoldings(NaiveAllocator model, BlockAllocator allocator, string context)
    {
        foreach (var network in model.Definitions.Keys)
        {
            var expected = model.Held.Where(h => h.Network == network)
                .Select(h => $"{h.Node}={h.Block}").OrderBy(s => s, StringComparer.Ordinal);
            var actual = allocator.Holdings(network)
                .SelectMany(pair => pair.Value.Select(block => $"{pair.Key}={block}")).OrderBy(s => s, StringComparer.Ordinal);
            Assert.True(expected.SequenceEqual(actual), $"{context}: {network} holds [{string.Join(", ", actual)}], expected [{string.Join(", ", expected)}]");
            Assert.Equal(model.Held.Count(h => h.Network == network), allocator.Allocated(network));
        }
        var all = model.Held.Select(h => h.Block).ToList();
        for (int i = 0; i < all.Count; i++)
            for (int j = i + 1; j < all.Count; j++)
                Assert.False(all[i].Overlaps(all[j]), $"{context}: {all[i]} overlaps {all[j]}");
    }

    /// <summary>The rules, written as plainly as possible: try every block of every range in order.</summary>
    private sealed class NaiveAllocator
    {
        public Dictionary<string, PoolDefinition> Definitions { get; } = new();
        public List<(string Network, string Node, Cidr Block)> Held { get; } = new();

        public void Define(PoolDefinition definition) => Definitions[definition.Network] = definition;

        public void Release(string network, string node) => Held.RemoveAll(h => h.Network == network && h.Node == node);

        public (AllocationOutcome Outcome, Cidr? Block) Allocate(string network, string node, AddressFamily family)
        {
            foreach (var h in Held)
                if (h.Network == network && h.Node == node && h.Block.Family == family) return (AllocationOutcome.Existing, h.Block);
            var definition = Definitions[network];
            var ranges = definition.Ranges.Where(r => r.Family == family).ToList();
            if (!definition.Valid || ranges.Count == 0) return (AllocationOutcome.Refused, null);
            foreach (var range in ranges)
            {
                int size = definition.BlockSizeFor(family);
                if (size < range.PrefixLength) continue;
                for (UInt128 i = 0; i < range.SubnetCount(size); i++)
                {
                    var block = range.Subnet(size, i);
                    if (Held.Any(h => h.Block.Overlaps(block))) continue;
                    Held.Add((network, node, block));
                    return (AllocationOutcome.Allocated, block);
                }
            }
            return (AllocationOutcome.Exhausted, null);
        }
    }
}
