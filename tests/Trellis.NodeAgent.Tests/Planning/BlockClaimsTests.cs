using Trellis.Addressing;
using Trellis.NodeAgent.Planning;

namespace Trellis.NodeAgent.Tests.Planning;

public sealed class BlockClaimsTests
{
    private static BlockClaims Claims()
    {
        var claims = new BlockClaims();
        claims.Claim(Cidr.Parse("10.244.1.0/24"), "node1");
        claims.Claim(Cidr.Parse("fd10::1:0:0:0/80"), "node1");
        return claims;
    }

    [Theory]
    [InlineData("10.244.1.0/24", "10.244.1.0/24")]
    [InlineData("10.244.1.128/25", "10.244.1.0/24")]
    [InlineData("10.244.0.0/16", "10.244.1.0/24")]
    [InlineData("0.0.0.0/0", "10.244.1.0/24")]
    [InlineData("fd10::1:0:0:0/96", "fd10::1:0:0:0/80")]
    [InlineData("fd10::/64", "fd10::1:0:0:0/80")]
    public void Equal_inner_and_outer_blocks_overlap(string block, string claimed)
    {
        var overlap = Claims().FindOverlap(Cidr.Parse(block));
        Assert.NotNull(overlap);
        Assert.Equal(Cidr.Parse(claimed), overlap.Value.Cidr);
        Assert.Equal("node1", overlap.Value.Owner);
    }

    [Theory]
    [InlineData("10.244.2.0/24")]
    [InlineData("10.244.0.0/24")]
    [InlineData("10.245.0.0/16")]
    [InlineData("fd10::2:0:0:0/80")]
    public void Disjoint_blocks_do_not_overlap(string block) => Assert.Null(Claims().FindOverlap(Cidr.Parse(block)));
}
