using Xunit;

namespace Trellis.Addressing.Tests;

public sealed class MtuBoundsTests
{
    [Theory]
    [InlineData(68, false)]
    [InlineData(576, false)]
    [InlineData(1279, false)]
    [InlineData(1280, true)]
    [InlineData(1500, true)]
    [InlineData(9000, true)]
    [InlineData(65_535, true)]
    [InlineData(65_535, false)]
    public void Every_mtu_the_kernel_carries_for_the_networks_families_is_allowed(int mtu, bool withIPv6) =>
        Assert.Null(MtuBounds.Problem(mtu, withIPv6));

    [Theory]
    [InlineData(67, false, "outside 68..65535")]
    [InlineData(0, false, "outside 68..65535")]
    [InlineData(-1, true, "outside 68..65535")]
    [InlineData(65_536, false, "outside 68..65535")]
    [InlineData(65_536, true, "outside 68..65535")]
    [InlineData(1279, true, "below 1280")]
    [InlineData(576, true, "below 1280")]
    [InlineData(68, true, "below 1280")]
    public void An_mtu_below_a_familys_floor_or_above_ips_length_is_refused_with_the_reason(int mtu, bool withIPv6, string reason)
    {
        var problem = MtuBounds.Problem(mtu, withIPv6);

        Assert.NotNull(problem);
        Assert.Contains($"MTU {mtu} ", problem);
        Assert.Contains(reason, problem);
    }

    [Fact]
    public void The_bounds_are_the_protocols_own()
    {
        Assert.Equal(68, MtuBounds.Minimum);
        Assert.Equal(1280, MtuBounds.MinimumWithIPv6);
        Assert.Equal(65_535, MtuBounds.Maximum);
    }
}
