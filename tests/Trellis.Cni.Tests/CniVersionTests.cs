using Trellis.Cni.Spec;
using Xunit;

namespace Trellis.Cni.Tests;

public sealed class CniVersionTests
{
    [Fact]
    public void SupportsExactlyTheFiveVersions() =>
        Assert.Equal(["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"], CniVersion.Supported.Select(v => v.ToString()));

    [Theory]
    [InlineData("0.3.0", true, false, false)]
    [InlineData("0.3.1", true, false, false)]
    [InlineData("0.4.0", true, true, false)]
    [InlineData("1.0.0", false, true, false)]
    [InlineData("1.1.0", false, true, true)]
    public void FeaturesFollowTheVersion(string text, bool ipsCarryVersion, bool check, bool statusAndGc)
    {
        Assert.True(CniVersion.TryParse(text, out var version));
        Assert.Equal(ipsCarryVersion, version.IpsCarryVersion);
        Assert.Equal(check, version.AllowsCheck);
        Assert.Equal(statusAndGc, version.AllowsStatusAndGc);
    }

    [Theory]
    [InlineData("")]
    [InlineData("1")]
    [InlineData("1.0")]
    [InlineData("1.0.0.0")]
    [InlineData("v1.0.0")]
    [InlineData("1.-1.0")]
    [InlineData("1..0")]
    public void RefusesMalformedVersions(string text) => Assert.False(CniVersion.TryParse(text, out _));

    [Fact]
    public void OrdersNumerically()
    {
        Assert.True(new CniVersion(0, 10, 0) > CniVersion.V0_4_0);
        Assert.True(CniVersion.V0_3_1 < CniVersion.V1_0_0);
    }
}
