using System.Net;
using System.Net.Sockets;
using Trellis.Addressing;
using Trellis.NetworkPolicy.Addresses;

namespace Trellis.NetworkPolicy.Tests.Compiling;

public sealed class AddressRangeTests
{
    private static AddressRange R(string first, string last) =>
        new(IPAddress.Parse(first).AddressFamily, IpAddressMath.ToUInt128(IPAddress.Parse(first)), IpAddressMath.ToUInt128(IPAddress.Parse(last)));

    private static string Text(IEnumerable<AddressRange> ranges) => string.Join(", ", ranges);

    [Fact]
    public void UnionMergesOverlappingAndTouchingRangesOfOneFamilyOnly()
    {
        var union = AddressRanges.Union([R("10.0.0.5", "10.0.0.9"), R("10.0.0.1", "10.0.0.4"), R("10.0.0.20", "10.0.0.20"),
            R("10.0.0.8", "10.0.0.12"), R("::a", "::b"), R("0.0.0.10", "0.0.0.11"), R("10.0.0.20", "10.0.0.20")]);
        Assert.Equal("0.0.0.10-0.0.0.11, 10.0.0.1-10.0.0.12, 10.0.0.20, ::a-::b", Text(union));
    }

    [Fact]
    public void UnionSurvivesTheTopOfTheAddressSpace()
    {
        Assert.Equal("::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            Text(AddressRanges.Union([AddressRange.Of(Cidr.Parse("::/0")), AddressRange.Of(Cidr.Parse("ff00::/8")), R("::1", "::2")])));
        Assert.Equal("0.0.0.0-255.255.255.255", Text(AddressRanges.Union([AddressRange.Of(Cidr.Parse("0.0.0.0/0")), R("255.255.255.255", "255.255.255.255")])));
    }

    [Theory]
    [InlineData("10.0.0.0/24", new[] { "10.0.0.0/32" }, "10.0.0.1-10.0.0.255")]
    [InlineData("10.0.0.0/24", new[] { "10.0.0.255/32" }, "10.0.0.0-10.0.0.254")]
    [InlineData("10.0.0.0/24", new[] { "10.0.0.1/32" }, "10.0.0.0, 10.0.0.2-10.0.0.255")]
    [InlineData("10.0.0.0/24", new[] { "10.0.0.254/32" }, "10.0.0.0-10.0.0.253, 10.0.0.255")]
    [InlineData("10.0.0.0/24", new[] { "10.0.0.128/25", "10.0.0.16/28" }, "10.0.0.0-10.0.0.15, 10.0.0.32-10.0.0.127")]
    [InlineData("10.0.0.0/24", new[] { "10.0.0.0/24" }, "")]
    [InlineData("10.0.0.0/24", new[] { "10.0.0.0/16" }, "")]
    [InlineData("10.0.0.0/24", new[] { "10.0.1.0/24", "fd00::/8" }, "10.0.0.0-10.0.0.255")]
    [InlineData("0.0.0.0/0", new[] { "10.0.0.0/8", "10.1.0.0/16" }, "0.0.0.0-9.255.255.255, 11.0.0.0-255.255.255.255")]
    [InlineData("::/0", new[] { "::/1" }, "8000::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")]
    [InlineData("::/0", new[] { "8000::/1" }, "::-7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")]
    public void SubtractLeavesWhatNoHoleCovers(string cidr, string[] holes, string expected)
    {
        var result = AddressRanges.Subtract(AddressRange.Of(Cidr.Parse(cidr)), holes.Select(h => AddressRange.Of(Cidr.Parse(h))));
        Assert.Equal(expected, Text(result));
    }

    [Fact]
    public void ContainsIsPerFamily()
    {
        var range = R("10.0.0.1", "10.0.0.3");
        Assert.True(range.Contains(IPAddress.Parse("10.0.0.3")));
        Assert.False(range.Contains(IPAddress.Parse("10.0.0.4")));
        Assert.False(range.Contains(IPAddress.Parse("::a00:2")));
        Assert.Equal(AddressFamily.InterNetwork, range.Family);
    }
}
