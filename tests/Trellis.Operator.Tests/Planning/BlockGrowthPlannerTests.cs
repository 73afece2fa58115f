using System.Net.Sockets;
using Trellis.Addressing;
using Trellis.Crds;
using Trellis.Operator.Facts;
using Trellis.Operator.Planning;
using Xunit;

namespace Trellis.Operator.Tests.Planning;

/// <summary>One node's growth and release, decided from its usage report alone: every threshold and timing edge.</summary>
public sealed class BlockGrowthPlannerTests
{
    private static readonly DateTime Now = new(2026, 12, 1, 4, 0, 0, DateTimeKind.Utc);
    private static readonly Cidr First = Cidr.Parse("10.244.0.0/28");
    private static readonly Cidr Second = Cidr.Parse("10.244.0.16/28");
    private static readonly Cidr Third = Cidr.Parse("10.244.0.32/28");
    private static readonly Cidr FirstV6 = Cidr.Parse("fd00:10:244::/124");
    private const long Capacity28 = 13;

    private static readonly BlockGrowthPolicy Defaults = BlockGrowthPolicy.Of(new PodNetworkSpec());

    private static BlockUsage Used(Cidr block, long inUse, long capacity = Capacity28, DateTime? emptySince = null) =>
        new(block, inUse, capacity, inUse == 0 ? emptySince : null);

    private static NodeUsageFacts Usage(params BlockUsage[] blocks) => new(blocks.ToDictionary(b => b.Block));

    [Fact]
    public void The_defaults_are_the_documented_ones()
    {
        Assert.Equal(new BlockGrowthPolicy(4, 10, 4, TimeSpan.FromMinutes(10)), Defaults);
    }

    [Theory]
    // 13 addresses: fewer than 4 free grows (10% of 13 is 1.3, so the count decides).
    [InlineData(9, 13, false)]
    [InlineData(10, 13, true)]
    [InlineData(13, 13, true)]
    // 254 addresses: 10% is 25.4, so 26 free is enough and 25 is not.
    [InlineData(228, 254, false)]
    [InlineData(229, 254, true)]
    // 1000 addresses: exactly 10% free (100) is not fewer than 10%.
    [InlineData(900, 1000, false)]
    [InlineData(901, 1000, true)]
    public void A_family_grows_when_fewer_than_4_or_fewer_than_10_percent_are_free(long inUse, long capacity, bool grows)
    {
        var decision = BlockGrowthPlanner.Decide([First], Usage(Used(First, inUse, capacity)), Defaults, Now);
        Assert.Equal(grows ? [AddressFamily.InterNetwork] : [], decision.Grow);
        Assert.Empty(decision.Release);
    }

    [Fact]
    public void Free_addresses_are_counted_over_every_block_of_the_family()
    {
        // 13 + 13 with 22 in use: 4 free, not fewer than 4, and 4/26 is above 10%.
        var two = BlockGrowthPlanner.Decide([First, Second], Usage(Used(First, 13), Used(Second, 9)), Defaults, Now);
        Assert.Empty(two.Grow);
        var one = BlockGrowthPlanner.Decide([First, Second], Usage(Used(First, 13), Used(Second, 10)), Defaults, Now);
        Assert.Equal([AddressFamily.InterNetwork], one.Grow);
    }

    [Fact]
    public void Thresholds_of_zero_never_grow_and_100_percent_always_grows()
    {
        var never = Defaults with { MinFreeAddresses = 0, MinFreePercent = 0 };
        Assert.Empty(BlockGrowthPlanner.Decide([First], Usage(Used(First, 13)), never, Now).Grow);
        var always = Defaults with { MinFreeAddresses = 0, MinFreePercent = 100 };
        Assert.Equal([AddressFamily.InterNetwork], BlockGrowthPlanner.Decide([First], Usage(Used(First, 1)), always, Now).Grow);
        Assert.Empty(BlockGrowthPlanner.Decide([First], Usage(Used(First, 0, emptySince: Now)), always, Now).Grow);
    }

    [Fact]
    public void A_family_at_maxBlocksPerNode_does_not_grow_and_says_so()
    {
        var policy = Defaults with { MaxBlocksPerNode = 2 };
        var full = BlockGrowthPlanner.Decide([First, Second], Usage(Used(First, 13), Used(Second, 13)), policy, Now);
        Assert.Empty(full.Grow);
        Assert.Equal([AddressFamily.InterNetwork], full.AtMaximum);

        var one = Defaults with { MaxBlocksPerNode = 1 };
        Assert.Empty(BlockGrowthPlanner.Decide([First], Usage(Used(First, 13)), one, Now).Grow);
    }

    [Fact]
    public void Families_grow_on_their_own()
    {
        var decision = BlockGrowthPlanner.Decide([First, FirstV6],
            Usage(Used(First, 2), Used(FirstV6, 13, capacity: 14)), Defaults, Now);
        Assert.Equal([AddressFamily.InterNetworkV6], decision.Grow);
    }

    [Fact]
    public void Absent_or_stale_usage_decides_nothing()
    {
        Assert.Same(BlockGrowthDecision.None, BlockGrowthPlanner.Decide([First], null, Defaults, Now));
        // A report silent about a block the node holds (just added, not yet seen by the agent): that family waits.
        var partial = BlockGrowthPlanner.Decide([First, Second], Usage(Used(First, 13)), Defaults, Now);
        Assert.Empty(partial.Grow);
        Assert.Empty(partial.Drain);
    }

    [Theory]
    [InlineData(599, false)]
    [InlineData(600, true)]
    [InlineData(601, true)]
    public void An_extra_block_empty_for_the_timeout_drains_and_not_a_second_sooner(int secondsEmpty, bool drains)
    {
        var usage = Usage(Used(First, 2), Used(Second, 0, emptySince: Now.AddSeconds(-secondsEmpty)));
        var decision = BlockGrowthPlanner.Decide([First, Second], usage, Defaults, Now);
        Assert.Equal(drains ? [Second] : [], decision.Drain);
        Assert.Equal(drains ? null : TimeSpan.FromSeconds(600 - secondsEmpty), decision.RecheckAfter);
    }

    [Fact]
    public void A_zero_timeout_drains_an_empty_extra_block_at_once()
    {
        var policy = Defaults with { ReleaseEmptyAfter = TimeSpan.Zero };
        var decision = BlockGrowthPlanner.Decide([First, Second], Usage(Used(First, 0, emptySince: Now), Used(Second, 0, emptySince: Now)), policy, Now);
        Assert.Equal([Second], decision.Drain);
    }

    [Fact]
    public void The_first_block_never_drains_however_long_it_is_empty()
    {
        var usage = Usage(Used(First, 0, emptySince: Now.AddDays(-30)), Used(Second, 1));
        var decision = BlockGrowthPlanner.Decide([First, Second], usage, Defaults, Now);
        Assert.Empty(decision.Drain);
        Assert.Null(decision.RecheckAfter);
        // The first of its family is the first given, whatever its address: here the higher one.
        var reversed = BlockGrowthPlanner.Decide([Second, First],
            Usage(Used(Second, 0, emptySince: Now.AddDays(-30)), Used(First, 1)), Defaults, Now);
        Assert.Empty(reversed.Drain);
    }

    [Fact]
    public void A_block_in_use_or_without_emptySince_never_drains()
    {
        var inUse = BlockGrowthPlanner.Decide([First, Second], Usage(Used(First, 0, emptySince: Now.AddDays(-1)), Used(Second, 1)), Defaults, Now);
        Assert.Empty(inUse.Drain);
        var noSince = BlockGrowthPlanner.Decide([First, Second], Usage(Used(First, 1), Used(Second, 0)), Defaults, Now);
        Assert.Empty(noSince.Drain);
        Assert.Null(noSince.RecheckAfter);
    }

    [Fact]
    public void An_empty_block_whose_release_would_make_the_family_grow_again_stays()
    {
        // 12 of 13 in the first block: without the empty second the family would have 1 free and grow straight back.
        var usage = Usage(Used(First, 12), Used(Second, 0, emptySince: Now.AddHours(-1)));
        Assert.Empty(BlockGrowthPlanner.Decide([First, Second], usage, Defaults, Now).Drain);
    }

    [Fact]
    public void Several_empty_extra_blocks_go_newest_first_while_the_family_stays_above_the_threshold()
    {
        var long_ago = Now.AddHours(-1);
        var usage = Usage(Used(First, 9), Used(Second, 0, emptySince: long_ago), Used(Third, 0, emptySince: long_ago));
        // First alone: 4 free, enough. Both extra blocks go.
        Assert.Equal([Third, Second], BlockGrowthPlanner.Decide([First, Second, Third], usage, Defaults, Now).Drain);
        var busier = Usage(Used(First, 10), Used(Second, 0, emptySince: long_ago), Used(Third, 0, emptySince: long_ago));
        // First alone would have 3 free: one extra block stays.
        Assert.Equal([Third], BlockGrowthPlanner.Decide([First, Second, Third], busier, Defaults, Now).Drain);
    }

    [Fact]
    public void A_family_that_grows_drains_nothing()
    {
        var policy = Defaults with { MinFreePercent = 100 };
        var usage = Usage(Used(First, 1), Used(Second, 0, emptySince: Now.AddHours(-1)));
        var decision = BlockGrowthPlanner.Decide([First, Second], usage, policy, Now);
        Assert.Equal([AddressFamily.InterNetwork], decision.Grow);
        Assert.Empty(decision.Drain);
    }

    [Fact]
    public void An_emptySince_in_the_future_waits_the_whole_timeout_from_then()
    {
        var usage = Usage(Used(First, 1), Used(Second, 0, emptySince: Now.AddSeconds(30)));
        var decision = BlockGrowthPlanner.Decide([First, Second], usage, Defaults, Now);
        Assert.Empty(decision.Drain);
        Assert.Equal(TimeSpan.FromSeconds(630), decision.RecheckAfter);
    }

    private static readonly HashSet<Cidr> SecondDraining = [Second];

    [Fact]
    public void A_draining_block_the_agent_reports_drained_is_released()
    {
        var usage = Usage(Used(First, 2), new BlockUsage(Second, 0, Capacity28, Now.AddMinutes(-20), Drained: true));
        var decision = BlockGrowthPlanner.Decide([First, Second], usage, Defaults, Now, SecondDraining);
        Assert.Equal([Second], decision.Release);
        Assert.Empty(decision.Drain);
        Assert.Empty(decision.Undrain);
    }

    [Fact]
    public void A_draining_block_not_yet_reported_drained_waits_for_the_agent()
    {
        var usage = Usage(Used(First, 2), Used(Second, 0, emptySince: Now.AddMinutes(-20)));
        var decision = BlockGrowthPlanner.Decide([First, Second], usage, Defaults, Now, SecondDraining);
        Assert.Empty(decision.Release);
        Assert.Empty(decision.Drain);
        Assert.Empty(decision.Undrain);
    }

    /// <summary>A pod got an address in the block before the agent closed it: the block stays, open again.</summary>
    [Fact]
    public void A_draining_block_with_an_address_in_use_opens_again_and_is_never_released()
    {
        var usage = Usage(Used(First, 2), new BlockUsage(Second, 1, Capacity28, null, Drained: true));
        var decision = BlockGrowthPlanner.Decide([First, Second], usage, Defaults, Now, SecondDraining);
        Assert.Equal([Second], decision.Undrain);
        Assert.Empty(decision.Release);
    }

    /// <summary>A draining block takes no pod, so its free addresses do not count; a family running low opens it before growing.</summary>
    [Fact]
    public void A_family_running_low_opens_its_draining_blocks_before_it_grows()
    {
        var usage = Usage(Used(First, 10), new BlockUsage(Second, 0, Capacity28, Now.AddMinutes(-20), Drained: true));
        var decision = BlockGrowthPlanner.Decide([First, Second], usage, Defaults, Now, SecondDraining);
        Assert.Equal([Second], decision.Undrain);
        Assert.Empty(decision.Grow);
        Assert.Empty(decision.Release);
        // Without the draining block the same node grows.
        var alone = BlockGrowthPlanner.Decide([First], Usage(Used(First, 10)), Defaults, Now);
        Assert.Equal([AddressFamily.InterNetwork], alone.Grow);
    }

    [Fact]
    public void A_first_block_listed_as_draining_is_treated_as_open_and_never_released()
    {
        var usage = Usage(new BlockUsage(First, 0, Capacity28, Now.AddDays(-1), Drained: true), Used(Second, 3));
        var decision = BlockGrowthPlanner.Decide([First, Second], usage, Defaults, Now, new HashSet<Cidr> { First });
        Assert.Empty(decision.Release);
        Assert.Empty(decision.Undrain);
    }

    [Fact]
    public void A_block_already_draining_is_not_drained_again()
    {
        var usage = Usage(Used(First, 2), Used(Second, 0, emptySince: Now.AddHours(-1)), Used(Third, 0, emptySince: Now.AddHours(-1)));
        var decision = BlockGrowthPlanner.Decide([First, Second, Third], usage, Defaults, Now, SecondDraining);
        Assert.Equal([Third], decision.Drain);
    }
}
