using System.Net;
using Xunit;

namespace Trellis.Addressing.Tests;

public sealed class BlockGatewayTests
{
    [Theory]
    [InlineData("10.244.1.0/24", "10.244.1.1")]
    [InlineData("10.244.1.0/30", "10.244.1.1")]
    [InlineData("10.244.1.4/31", "10.244.1.5")]
    [InlineData("0.0.0.0/0", "0.0.0.1")]
    [InlineData("fd00:10:244:1::/64", "fd00:10:244:1::1")]
    [InlineData("fd00::/127", "fd00::1")]
    [InlineData("::/0", "::1")]
    public void A_blocks_gateway_is_its_first_host(string block, string gateway)
    {
        var cidr = Cidr.Parse(block);

        Assert.Equal(IPAddress.Parse(gateway), BlockGateway.Of(cidr));
        Assert.True(BlockGateway.TryOf(cidr, out var tried));
        Assert.Equal(IPAddress.Parse(gateway), tried);
        Assert.Equal(cidr.FirstHost, tried);
    }

    [Theory]
    [InlineData("10.244.1.7/32")]
    [InlineData("fd00::7/128")]
    public void A_block_of_one_address_has_no_gateway(string block)
    {
        var cidr = Cidr.Parse(block);

        Assert.False(BlockGateway.TryOf(cidr, out var gateway));
        Assert.Null(gateway);
        Assert.Contains(block, Assert.Throws<ArgumentException>(() => BlockGateway.Of(cidr)).Message);
    }
}

