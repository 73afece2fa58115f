using System.Net;
using Trellis.Addressing;
using Xunit;

namespace Trellis.Addressing.Tests;

public sealed class CidrTests
{
    [Theory]
    [InlineData("10.244.0.0/16")]
    [InlineData("0.0.0.0/0")]
    [InlineData("10.1.2.3/32")]
    [InlineData("fd00::/64")]
    [InlineData("fd00:10:244::/80")]
    [InlineData("::/0")]
    public void Parse_round_trips_canonical_text(string text) => Assert.Equal(text, Cidr.Parse(text).ToString());

    [Theory]
    [InlineData("", "empty")]
    [InlineData("10.244.0.0", "not a CIDR")]
    [InlineData("10.244.0.0/", "not a CIDR")]
    [InlineData("10.244.0.0/33", "outside 0..32")]
    [InlineData("fd00::/129", "outside 0..128")]
    [InlineData("10.244.1.7/24", "did you mean 10.244.1.0/24")]
    [InlineData("10.244/16", "invalid address")]
    [InlineData("300.1.1.0/24", "invalid address")]
    [InlineData("10.0.0.0/-1", "invalid prefix")]
    [InlineData("10.0.0.0/+8", "invalid prefix")]
    [InlineData("::ffff:10.0.0.0/120", "IPv4-mapped")]
    [InlineData("fe80::%eth0/64", "invalid address")]
    public void Parse_refuses_with_a_reason(string text, string reason)
    {
        Assert.False(Cidr.TryParse(text, out _, out var error));
        Assert.Contains(reason, error);
        Assert.Throws<FormatException>(() => Cidr.Parse(text));
    }

    [Fact]
    public void Size_last_and_address_at()
    {
        var v4 = Cidr.Parse("10.244.1.0/24");
        Assert.Equal((UInt128)256, v4.Size);
        Assert.Equal(IPAddress.Parse("10.244.1.255"), v4.Last);
        Assert.Equal(IPAddress.Parse("10.244.1.1"), v4.AddressAt(1));
        Assert.Equal((UInt128)7, v4.OffsetOf(IPAddress.Parse("10.244.1.7")));
        Assert.Throws<ArgumentOutOfRangeException>(() => v4.AddressAt(256));

        var v6 = Cidr.Parse("fd00::/120");
        Assert.Equal(IPAddress.Parse("fd00::ff"), v6.Last);
        Assert.Equal(UInt128.MaxValue, Cidr.Parse("::/0").Size);
        Assert.Equal(uint.MaxValue + (UInt128)1, Cidr.Parse("0.0.0.0/0").Size);
    }

    [Fact]
    public void Contains_and_overlaps_respect_family_and_prefix()
    {
        var cluster = Cidr.Parse("10.244.0.0/16");
        Assert.True(cluster.Contains(Cidr.Parse("10.244.3.0/24")));
        Assert.False(Cidr.Parse("10.244.3.0/24").Contains(cluster));
        Assert.True(Cidr.Parse("10.244.3.0/24").Overlaps(cluster));
        Assert.False(cluster.Overlaps(Cidr.Parse("10.245.0.0/16")));
        Assert.False(cluster.Overlaps(Cidr.Parse("::/0")));
        Assert.True(cluster.Contains(IPAddress.Parse("10.244.255.255")));
        Assert.False(cluster.Contains(IPAddress.Parse("10.245.0.0")));
        Assert.False(cluster.Contains(IPAddress.Parse("::a")));
        Assert.True(Cidr.Parse("0.0.0.0/0").Contains(IPAddress.Parse("255.255.255.255")));
    }

    [Fact]
    public void Subnets_enumerate_in_order_and_index_back()
    {
        var cluster = Cidr.Parse("10.244.0.0/16");
        Assert.Equal((UInt128)256, cluster.SubnetCount(24));
        for (UInt128 i = 0; i < 256; i++)
        {
            var block = cluster.Subnet(24, i);
            Assert.Equal($"10.244.{i}.0/24", block.ToString());
            Assert.Equal(i, cluster.SubnetIndex(block));
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => cluster.Subnet(24, 256));
        Assert.Throws<ArgumentOutOfRangeException>(() => cluster.Subnet(8, 0));

        var v6 = Cidr.Parse("fd00:10:244::/64");
        Assert.Equal("fd00:10:244:0:3::/80", v6.Subnet(80, 3).ToString());
        Assert.Equal((UInt128)65536, v6.SubnetCount(80));
    }

    [Fact]
    public void Containing_clears_host_bits()
    {
        Assert.Equal("10.244.1.0/24", Cidr.Containing(IPAddress.Parse("10.244.1.77"), 24).ToString());
        Assert.Equal("192.168.1.12/32", Cidr.Containing(IPAddress.Parse("192.168.1.12"), 32).ToString());
        Assert.Equal("fd00::/64", Cidr.Containing(IPAddress.Parse("fd00::1:2"), 64).ToString());
    }

    [Fact]
    public void Ordering_is_by_family_then_network_then_prefix()
    {
        var sorted = new[] { "fd00::/64", "10.244.2.0/24", "10.244.0.0/16", "10.244.1.0/24" }
            .Select(Cidr.Parse).Order().Select(c => c.ToString());
        Assert.Equal(new[] { "10.244.0.0/16", "10.244.1.0/24", "10.244.2.0/24", "fd00::/64" }, sorted);
    }

    [Fact]
    public void IpPrefix_keeps_host_bits_and_knows_its_network()
    {
        var prefix = IpPrefix.Parse("10.244.1.5/24");
        Assert.Equal("10.244.1.5/24", prefix.ToString());
        Assert.Equal("10.244.1.0/24", prefix.Network.ToString());
        Assert.False(IpPrefix.TryParse("10.244.1.5/40", out _, out _));
    }
}
