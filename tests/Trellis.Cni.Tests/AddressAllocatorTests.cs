using Trellis.Addressing;
using System.Net;
using Trellis.Cni.Config;
using Trellis.Cni.Ipam;
using Xunit;

namespace Trellis.Cni.Tests;

public sealed class AddressAllocatorTests
{
    private static AddressRange Range(string subnet, string? start = null, string? end = null, string? gateway = null)
    {
        var cidr = Cidr.Parse(subnet);
        return new AddressRange(
            cidr,
            start is null ? cidr.Network : IPAddress.Parse(start),
            end is null ? cidr.Last : IPAddress.Parse(end),
            gateway is null ? cidr.AddressAt(cidr.Size > 1 ? UInt128.One : UInt128.Zero) : IPAddress.Parse(gateway));
    }

    private static RangeSet Set(params AddressRange[] ranges) => new(ranges);

    /// <summary>Hands out addresses one after another the way the store would, until the set is exhausted.</summary>
    private static List<string> AllocateAll(RangeSet set, HashSet<IPAddress>? taken = null)
    {
        taken ??= [];
        var handed = new List<string>();
        IPAddress? last = null;
        while (AddressAllocator.Next(set, last, taken.Contains) is IPAddress next)
        {
            Assert.True(taken.Add(next), $"{next} handed out twice");
            handed.Add(next.ToString());
            last = next;
        }
        return handed;
    }

    [Fact]
    public void A24GivesEveryHostButNetworkGatewayAndBroadcast()
    {
        var handed = AllocateAll(Set(Range("10.244.1.0/24")));
        Assert.Equal(253, handed.Count);
        Assert.Equal("10.244.1.2", handed[0]);
        Assert.Equal("10.244.1.254", handed[^1]);
        Assert.DoesNotContain("10.244.1.0", handed);
        Assert.DoesNotContain("10.244.1.1", handed);
        Assert.DoesNotContain("10.244.1.255", handed);
        Assert.Equal((UInt128)253, AddressAllocator.Capacity(Set(Range("10.244.1.0/24"))));
    }

    [Fact]
    public void AGatewayInTheMiddleIsSkipped()
    {
        var handed = AllocateAll(Set(Range("10.0.0.0/29", gateway: "10.0.0.4")));
        Assert.Equal(["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.5", "10.0.0.6"], handed);
    }

    [Fact]
    public void RangeStartAndEndAreHonoured()
    {
        var handed = AllocateAll(Set(Range("10.244.1.0/24", start: "10.244.1.100", end: "10.244.1.103")));
        Assert.Equal(["10.244.1.100", "10.244.1.101", "10.244.1.102", "10.244.1.103"], handed);
    }

    [Fact]
    public void ExhaustionGivesNull()
    {
        var set = Set(Range("10.0.0.0/30"));
        Assert.Equal(["10.0.0.2"], AllocateAll(set));
        Assert.Null(AddressAllocator.Next(set, null, a => true));
    }

    [Theory]
    [InlineData("10.0.0.0/31")]
    [InlineData("10.0.0.0/32")]
    [InlineData("fd00::/127")]
    [InlineData("fd00::/128")]
    public void TinySubnetsHaveNothingToGive(string subnet)
    {
        var set = Set(Range(subnet));
        Assert.Empty(AllocateAll(set));
        Assert.Equal(UInt128.Zero, AddressAllocator.Capacity(set));
    }

    [Fact]
    public void IPv6GivesTheLastAddressButNeverTheSubnetRouterAnycast()
    {
        var handed = AllocateAll(Set(Range("fd00::/125")));
        Assert.Equal(["fd00::2", "fd00::3", "fd00::4", "fd00::5", "fd00::6", "fd00::7"], handed);
    }

    [Fact]
    public void IPv6LargeSubnetStartsAtOnceAndContinuesAfterTheLast()
    {
        var set = Set(Range("fd00:10:244:1::/64", start: "fd00:10:244:1::1", end: "fd00:10:244:1:ffff:ffff:ffff:ffff"));
        Assert.Equal(IPAddress.Parse("fd00:10:244:1::2"), AddressAllocator.Next(set, null, _ => false));
        Assert.Equal(IPAddress.Parse("fd00:10:244:1::1:0"), AddressAllocator.Next(set, IPAddress.Parse("fd00:10:244:1::ffff"), _ => false));
        Assert.Equal(IPAddress.Parse("fd00:10:244:1::2"),
            AddressAllocator.Next(set, IPAddress.Parse("fd00:10:244:1:ffff:ffff:ffff:ffff"), _ => false));
    }

    [Fact]
    public void AFreedAddressIsNotReusedWhileOthersAreFree()
    {
        var set = Set(Range("10.0.0.0/29"));
        var taken = new HashSet<IPAddress>();
        IPAddress? last = null;
        var first = AddressAllocator.Next(set, last, taken.Contains)!;
        taken.Add(first);
        last = first;
        taken.Remove(first);
        var order = new List<string>();
        for (int i = 0; i < 5; i++)
        {
            var next = AddressAllocator.Next(set, last, taken.Contains)!;
            taken.Add(next);
            order.Add(next.ToString());
            last = next;
        }
        Assert.Equal(["10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6", "10.0.0.2"], order);
        Assert.Null(AddressAllocator.Next(set, last, taken.Contains));
    }

    [Fact]
    public void TheSearchWrapsAroundAfterTheEnd()
    {
        var set = Set(Range("10.0.0.0/29"));
        var taken = new HashSet<IPAddress> { IPAddress.Parse("10.0.0.6") };
        Assert.Equal(IPAddress.Parse("10.0.0.2"), AddressAllocator.Next(set, IPAddress.Parse("10.0.0.6"), taken.Contains));
        taken.UnionWith([IPAddress.Parse("10.0.0.2"), IPAddress.Parse("10.0.0.3")]);
        Assert.Equal(IPAddress.Parse("10.0.0.4"), AddressAllocator.Next(set, IPAddress.Parse("10.0.0.6"), taken.Contains));
    }

    [Fact]
    public void ALastReservedOutsideTheSetStartsAtTheBeginning()
    {
        var set = Set(Range("10.0.0.0/29"));
        Assert.Equal(IPAddress.Parse("10.0.0.2"), AddressAllocator.Next(set, IPAddress.Parse("192.168.0.1"), _ => false));
        Assert.Equal(IPAddress.Parse("10.0.0.2"), AddressAllocator.Next(set, IPAddress.Parse("fd00::1"), _ => false));
    }

    [Fact]
    public void SeveralRangesAreWalkedInOrderAndWrapAcrossThem()
    {
        var set = Set(Range("10.0.0.0/30"), Range("10.0.1.0/30"), Range("10.0.2.0/30"));
        Assert.Equal(["10.0.0.2", "10.0.1.2", "10.0.2.2"], AllocateAll(set));
        var taken = new HashSet<IPAddress> { IPAddress.Parse("10.0.2.2") };
        Assert.Equal(IPAddress.Parse("10.0.0.2"), AddressAllocator.Next(set, IPAddress.Parse("10.0.2.2"), taken.Contains));
        Assert.Equal(IPAddress.Parse("10.0.2.2"), AddressAllocator.Next(set, IPAddress.Parse("10.0.1.2"), _ => false));
    }

    [Fact]
    public void EveryCandidateIsVisitedExactlyOnceFromAnyStart()
    {
        var set = Set(Range("10.0.0.0/28", start: "10.0.0.3", end: "10.0.0.12"), Range("10.0.5.0/29"));
        var all = AddressAllocator.Candidates(set, null).Select(a => a.ToString()).ToList();
        Assert.Equal(AddressAllocator.Capacity(set), (UInt128)all.Count);
        foreach (var start in all)
        {
            var walk = AddressAllocator.Candidates(set, IPAddress.Parse(start)).Select(a => a.ToString()).ToList();
            Assert.Equal(all.Order(), walk.Order());
            Assert.Equal(start, walk[^1]);
        }
    }

    [Fact]
    public void DualStackSetsAreIndependent()
    {
        var v4 = Set(Range("10.244.1.0/24"));
        var v6 = Set(Range("fd00::/120"));
        var taken = new HashSet<IPAddress>();
        var a4 = AddressAllocator.Next(v4, null, taken.Contains)!;
        taken.Add(a4);
        var a6 = AddressAllocator.Next(v6, null, taken.Contains)!;
        Assert.Equal(IPAddress.Parse("10.244.1.2"), a4);
        Assert.Equal(IPAddress.Parse("fd00::2"), a6);
    }

    [Theory]
    [InlineData("10.244.1.0", false)]
    [InlineData("10.244.1.1", false)]
    [InlineData("10.244.1.255", false)]
    [InlineData("10.244.1.2", true)]
    [InlineData("10.244.1.254", true)]
    [InlineData("10.244.2.2", false)]
    [InlineData("fd00::2", false)]
    public void IsAssignableKeepsReservedAddressesOut(string address, bool expected) =>
        Assert.Equal(expected, AddressAllocator.IsAssignable(Range("10.244.1.0/24"), IPAddress.Parse(address)));
}
