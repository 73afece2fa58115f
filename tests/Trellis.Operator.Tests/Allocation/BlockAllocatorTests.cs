using Trellis.Addressing;
using System.Net.Sockets;
using Trellis.Operator.Allocation;
using Xunit;

namespace Trellis.Operator.Tests.Allocation;

public sealed class BlockAllocatorTests
{
    private const AddressFamily V4 = AddressFamily.InterNetwork;
    private const AddressFamily V6 = AddressFamily.InterNetworkV6;

    private static PoolDefinition Pool(string name, params string[] ranges) =>
        new(name, ranges.Select(Cidr.Parse).ToList(), 24, 80, Valid: true);

    private static BlockAllocator With(params PoolDefinition[] pools)
    {
        var allocator = new BlockAllocator();
        foreach (var pool in pools) allocator.DefinePool(pool);
        return allocator;
    }

    [Fact]
    public void Nodes_get_the_lowest_free_blocks_in_order()
    {
        var allocator = With(Pool("default", "10.244.0.0/16"));
        Assert.Equal("10.244.0.0/24", allocator.Allocate("default", "n1", V4).Block.ToString());
        Assert.Equal("10.244.1.0/24", allocator.Allocate("default", "n2", V4).Block.ToString());
        Assert.Equal("10.244.2.0/24", allocator.Allocate("default", "n3", V4).Block.ToString());
        Assert.Equal(3, allocator.Allocated("default"));
        Assert.Equal(256, allocator.Total("default"));
    }

    [Fact]
    public void Asking_again_returns_the_same_block_and_changes_nothing()
    {
        var allocator = With(Pool("default", "10.244.0.0/16"));
        var first = allocator.Allocate("default", "n1", V4);
        var again = allocator.Allocate("default", "n1", V4);
        Assert.Equal(AllocationOutcome.Allocated, first.Outcome);
        Assert.Equal(AllocationOutcome.Existing, again.Outcome);
        Assert.Equal(first.Block, again.Block);
        Assert.Equal(1, allocator.Allocated("default"));
    }

    [Fact]
    public void A_released_block_is_the_next_one_handed_out()
    {
        var allocator = With(Pool("default", "10.244.0.0/16"));
        foreach (var node in new[] { "n1", "n2", "n3" }) allocator.Allocate("default", node, V4);
        allocator.Release("default", "n2");
        Assert.Empty(allocator.BlocksOf("default", "n2"));
        Assert.Equal("10.244.1.0/24", allocator.Allocate("default", "n4", V4).Block.ToString());
        Assert.Equal("10.244.3.0/24", allocator.Allocate("default", "n5", V4).Block.ToString());
    }

    [Fact]
    public void Restored_blocks_are_honoured_even_when_not_the_lowest()
    {
        var allocator = With(Pool("default", "10.244.0.0/16"));
        Assert.Equal(RestoreOutcome.Restored, allocator.Restore("default", "old", Cidr.Parse("10.244.7.0/24")).Outcome);
        Assert.Equal(RestoreOutcome.AlreadyHeld, allocator.Restore("default", "old", Cidr.Parse("10.244.7.0/24")).Outcome);
        Assert.Equal("10.244.7.0/24", allocator.Allocate("default", "old", V4).Block.ToString());
        var handedOut = Enumerable.Range(0, 8).Select(i => allocator.Allocate("default", $"n{i}", V4).Block.ToString()).ToList();
        Assert.DoesNotContain("10.244.7.0/24", handedOut);
        Assert.Equal("10.244.8.0/24", handedOut[^1]);
    }

    [Fact]
    public void Restore_before_the_pool_is_defined_is_kept_when_it_is()
    {
        var allocator = new BlockAllocator();
        allocator.Restore("default", "old", Cidr.Parse("10.244.0.0/24"));
        allocator.DefinePool(Pool("default", "10.244.0.0/16"));
        Assert.Equal("10.244.1.0/24", allocator.Allocate("default", "new", V4).Block.ToString());
    }

    [Fact]
    public void A_restored_block_overlapping_another_is_a_conflict_naming_both()
    {
        var allocator = With(Pool("default", "10.244.0.0/16"));
        allocator.Restore("default", "n1", Cidr.Parse("10.244.0.0/24"));
        var result = allocator.Restore("default", "n2", Cidr.Parse("10.244.0.0/23"));
        Assert.Equal(RestoreOutcome.Conflict, result.Outcome);
        Assert.Contains("n2", result.Message);
        Assert.Contains("n1", result.Message);
        Assert.Contains("10.244.0.0/24", result.Message);
        Assert.Empty(allocator.BlocksOf("default", "n2"));
    }

    [Fact]
    public void Exhaustion_is_a_result_naming_network_and_family_and_an_appended_range_serves_again()
    {
        var allocator = With(Pool("small", "10.0.0.0/23"));
        allocator.Allocate("small", "n1", V4);
        allocator.Allocate("small", "n2", V4);
        var third = allocator.Allocate("small", "n3", V4);
        Assert.Equal(AllocationOutcome.Exhausted, third.Outcome);
        Assert.Null(third.Block);
        Assert.Contains("small", third.Message);
        Assert.Contains("IPv4", third.Message);
        Assert.Contains("10.0.0.0/23", third.Message);
        Assert.Equal(AllocationOutcome.Exhausted, allocator.Allocate("small", "n3", V4).Outcome);

        allocator.DefinePool(Pool("small", "10.0.0.0/23", "10.0.4.0/24"));
        Assert.Equal("10.0.4.0/24", allocator.Allocate("small", "n3", V4).Block.ToString());
        Assert.Equal("10.0.0.0/24", allocator.BlocksOf("small", "n1").Single().ToString());
        Assert.Equal(3, allocator.Total("small"));
    }

    [Fact]
    public void An_invalid_network_hands_out_nothing_new_but_keeps_what_nodes_hold()
    {
        var allocator = With(Pool("net", "10.0.0.0/16"));
        var held = allocator.Allocate("net", "n1", V4).Block;
        allocator.DefinePool(Pool("net", "10.0.0.0/16") with { Valid = false });
        Assert.Equal(AllocationOutcome.Refused, allocator.Allocate("net", "n2", V4).Outcome);
        Assert.Equal(held, allocator.Allocate("net", "n1", V4).Block);
    }

    [Fact]
    public void Unknown_network_and_missing_family_are_refused_with_a_message()
    {
        var allocator = With(Pool("v4only", "10.0.0.0/16"));
        var unknown = allocator.Allocate("nope", "n1", V4);
        Assert.Equal(AllocationOutcome.Refused, unknown.Outcome);
        Assert.Contains("nope", unknown.Message);
        var v6 = allocator.Allocate("v4only", "n1", V6);
        Assert.Equal(AllocationOutcome.Refused, v6.Outcome);
        Assert.Contains("IPv6", v6.Message);
    }

    [Fact]
    public void Dual_stack_gives_one_block_per_family()
    {
        var allocator = With(Pool("dual", "10.244.0.0/16", "fd00:10:244::/64"));
        var v4 = allocator.Allocate("dual", "n1", V4);
        var v6 = allocator.Allocate("dual", "n1", V6);
        Assert.Equal("10.244.0.0/24", v4.Block.ToString());
        Assert.Equal("fd00:10:244::/80", v6.Block.ToString());
        Assert.Equal("fd00:10:244:0:1::/80", allocator.Allocate("dual", "n2", V6).Block.ToString());
        Assert.Equal(2, allocator.BlocksOf("dual", "n1").Count);
        Assert.Equal(256 + 65536, allocator.Total("dual"));
    }

    [Fact]
    public void Overlapping_networks_never_share_address_space()
    {
        var allocator = With(Pool("a", "10.0.0.0/22"), Pool("b", "10.0.1.0/24", "10.0.0.0/22") with { IPv4BlockSize = 25 });
        Assert.Equal("10.0.0.0/24", allocator.Allocate("a", "n1", V4).Block.ToString());
        Assert.Equal("10.0.1.0/24", allocator.Allocate("a", "n2", V4).Block.ToString());
        // b's first range is entirely inside a's second block; its second range skips a's blocks.
        Assert.Equal("10.0.2.0/25", allocator.Allocate("b", "n1", V4).Block.ToString());
        Assert.Equal("10.0.2.128/25", allocator.Allocate("b", "n2", V4).Block.ToString());
        Assert.Equal("10.0.3.0/24", allocator.Allocate("a", "n3", V4).Block.ToString());
        Assert.Equal(AllocationOutcome.Exhausted, allocator.Allocate("a", "n4", V4).Outcome);
        allocator.Release("a", "n2");
        Assert.Equal("10.0.1.0/25", allocator.Allocate("b", "n3", V4).Block.ToString());
        Assert.Equal(AllocationOutcome.Exhausted, allocator.Allocate("a", "n4", V4).Outcome);
    }

    [Fact]
    public void Removing_a_pool_releases_its_blocks_for_other_networks()
    {
        var allocator = With(Pool("a", "10.0.0.0/24"), Pool("b", "10.0.0.0/24"));
        allocator.Allocate("a", "n1", V4);
        Assert.Equal(AllocationOutcome.Exhausted, allocator.Allocate("b", "n1", V4).Outcome);
        allocator.RemovePool("a");
        Assert.False(allocator.IsDefined("a"));
        Assert.Equal("10.0.0.0/24", allocator.Allocate("b", "n1", V4).Block.ToString());
    }

    [Fact]
    public void A_changed_block_size_keeps_old_blocks_and_cuts_new_ones_around_them()
    {
        var allocator = With(Pool("net", "10.0.0.0/22"));
        allocator.Allocate("net", "n1", V4);
        allocator.DefinePool(Pool("net", "10.0.0.0/22") with { IPv4BlockSize = 23 });
        Assert.Equal("10.0.0.0/24", allocator.BlocksOf("net", "n1").Single().ToString());
        Assert.Equal("10.0.2.0/23", allocator.Allocate("net", "n2", V4).Block.ToString());
        allocator.Release("net", "n1");
        Assert.Equal("10.0.0.0/23", allocator.Allocate("net", "n3", V4).Block.ToString());
    }

    [Fact]
    public void A_huge_ipv6_range_is_counted_saturated_and_allocates_without_scanning()
    {
        var allocator = With(Pool("v6", "fd00::/16") with { IPv6BlockSize = 112 });
        Assert.Equal(long.MaxValue, allocator.Total("v6"));
        allocator.Restore("v6", "far", Cidr.Parse("fd00:ffff:ffff:ffff:ffff:ffff:ffff:0/112"));
        Assert.Equal("fd00::/112", allocator.Allocate("v6", "n1", V6).Block.ToString());
        Assert.Equal("fd00::1:0/112", allocator.Allocate("v6", "n2", V6).Block.ToString());
    }

    [Fact]
    public void A_block_length_that_does_not_fit_its_range_yields_nothing()
    {
        var allocator = With(Pool("bad", "10.0.0.0/24") with { IPv4BlockSize = 16 });
        Assert.Equal(0, allocator.Total("bad"));
        Assert.Equal(AllocationOutcome.Exhausted, allocator.Allocate("bad", "n1", V4).Outcome);
    }

    [Fact]
    public void Sixty_five_thousand_blocks_are_all_distinct_and_the_next_is_refused()
    {
        var allocator = With(Pool("big", "10.0.0.0/8") with { IPv4BlockSize = 24 });
        var seen = new HashSet<Cidr>();
        for (int i = 0; i < 65536; i++)
        {
            var result = allocator.Allocate("big", $"n{i}", V4);
            Assert.True(result.Succeeded);
            Assert.True(seen.Add(result.Block!.Value));
        }
        Assert.Equal(AllocationOutcome.Exhausted, allocator.Allocate("big", "one-more", V4).Outcome);
    }
}
