using System.Net;
using Trellis.Cni.Config;
using Trellis.Cni.Ipam;
using Trellis.Cni.Spec;
using Trellis.Ipam;
using Trellis.Testing;
using Xunit;

namespace Trellis.Cni.Tests;

public sealed class ReservationsTests
{
    private static NetworkConfig Config(string dataDir, string ranges) =>
        NetworkConfigParser.Parse($$$"""{"cniVersion":"1.0.0","name":"net","ipam":{"ranges":{{{ranges}}},"dataDir":"{{{dataDir}}}"}}""");

    private static IReadOnlyList<string> Reserve(NetworkConfig config, Attachment owner, PodIdentity? pod = null)
    {
        using var claim = Reservations.Claim(config, owner, pod);
        return claim.Reserved.Select(r => r.Address.ToString()).ToList();
    }

    private static IReadOnlyList<IPAddress> Release(NetworkConfig config, Attachment owner)
    {
        using var claim = Reservations.ClaimExisting(config, owner);
        return Reservations.Release(config, claim);
    }

    [Fact]
    public void DualStackGivesOneAddressPerFamilyAndTheSameOnesAgain()
    {
        using var dir = new TemporaryDirectory();
        var config = Config(dir.Path, """[[{"subnet":"10.244.1.0/24"}],[{"subnet":"fd00::/64"}]]""");
        var owner = new Attachment("c1", "eth0");
        var first = Reserve(config, owner);
        Assert.Equal(["10.244.1.2/24", "fd00::2/64"], first);
        Assert.Equal(first, Reserve(config, owner));
        Assert.Equal(["10.244.1.3/24", "fd00::3/64"], Reserve(config, new Attachment("c1", "net1")));
        Assert.Equal(2, Release(config, owner).Count);
        Assert.Empty(Reservations.HeldBy(config, owner));
    }

    [Fact]
    public void EachRecordNamesThePodAndItsTime()
    {
        using var dir = new TemporaryDirectory();
        var config = Config(dir.Path, """[[{"subnet":"10.244.1.0/24"}],[{"subnet":"fd00::/64"}]]""");
        var owner = new Attachment("c1", "eth0");
        var pod = new PodIdentity("default", "web-1", "8f1c6a2e-1b7d-4a55-9c1e-2f0d3b4a5c6d");
        var before = DateTimeOffset.UtcNow;
        Reserve(config, owner, pod);

        var records = AllocationStore.ReadAllocations(dir.Path, "net").Select(a => a.Record!).ToList();
        Assert.Equal(2, records.Count);
        Assert.All(records, r =>
        {
            Assert.Equal(owner, r.Owner);
            Assert.Equal(pod, r.Pod);
            Assert.InRange(r.Created!.Value, before, DateTimeOffset.UtcNow);
            Assert.False(r.IsLegacy);
        });
    }

    [Fact]
    public void WhenOneFamilyIsExhaustedTheOtherIsNotKept()
    {
        using var dir = new TemporaryDirectory();
        var config = Config(dir.Path, """[[{"subnet":"10.244.1.0/24"}],[{"subnet":"fd00::/126"}]]""");
        Reserve(config, new Attachment("a", "eth0"));
        Reserve(config, new Attachment("b", "eth0"));
        var error = Assert.Throws<CniException>(() => Reserve(config, new Attachment("c", "eth0")));
        Assert.Equal(CniErrorCode.TryAgainLater, error.Code);
        Assert.Contains("fd00::/126", error.Message);
        Assert.Empty(Reservations.HeldBy(config, new Attachment("c", "eth0")));
        Assert.False(File.Exists(Path.Combine(dir.Path, "net", "10.244.1.4")));
    }

    [Fact]
    public void ReleasingAnUnknownNetworkCreatesNothing()
    {
        using var dir = new TemporaryDirectory();
        var config = Config(dir.Path, """[[{"subnet":"10.244.1.0/24"}]]""");
        Assert.Empty(Release(config, new Attachment("nobody", "eth0")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path));
    }

    [Fact]
    public void ParallelReservationsNeverShareAnAddress()
    {
        using var dir = new TemporaryDirectory();
        var config = Config(dir.Path, """[[{"subnet":"10.244.1.0/24"}]]""");
        var addresses = new string[64];
        Parallel.For(0, addresses.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 },
            i => addresses[i] = Reserve(config, new Attachment($"c{i}", "eth0"))[0]);
        Assert.Equal(addresses.Length, addresses.Distinct().Count());
    }

    [Fact]
    public async Task ATwinOfAnAttachmentWaitsForTheFirstAndThenGetsTheSameAddress()
    {
        using var dir = new TemporaryDirectory();
        var config = Config(dir.Path, """[[{"subnet":"10.244.1.0/24"}]]""");
        var owner = new Attachment("twin", "eth0");
        var first = Reservations.Claim(config, owner, null);
        var twin = Task.Run(() => Reserve(config, owner));
        Assert.False(await twin.EndsWithin(TimeSpan.FromMilliseconds(300)), "the twin did not wait for the attachment's first ADD");
        var address = first.Reserved[0].Address.ToString();
        first.Dispose();
        Assert.True(await twin.EndsWithin(TimeSpan.FromSeconds(10)));
        Assert.Equal([address], await twin);
        Assert.Single(AllocationStore.ReadAllocations(dir.Path, "net"));
    }

    [Fact]
    public async Task ATwinWaitingOnAnAddThatFailsReservesAfresh()
    {
        using var dir = new TemporaryDirectory();
        var config = Config(dir.Path, """[[{"subnet":"10.244.1.0/24"}]]""");
        var owner = new Attachment("twin", "eth0");
        var first = Reservations.Claim(config, owner, null);
        var twin = Task.Run(() => Reserve(config, owner));
        Assert.False(await twin.EndsWithin(TimeSpan.FromMilliseconds(300)));
        Reservations.Release(config, first);
        first.Dispose();
        Assert.True(await twin.EndsWithin(TimeSpan.FromSeconds(10)));
        Assert.Single(await twin);
        Assert.Single(AllocationStore.ReadAllocations(dir.Path, "net"));
    }

    /// <summary>
    /// A block the agent closed (draining, on its way to another node) gives no new address, even to a plugin whose
    /// configuration (a runtime's cached conflist) still lists it; the owner of an address in it keeps that address.
    /// </summary>
    [Fact]
    public void A_closed_block_gives_no_new_address_whatever_the_configuration_lists()
    {
        using var dir = new TemporaryDirectory();
        var config = Config(dir.Path, """[[{"subnet":"10.244.1.0/29"},{"subnet":"10.244.1.16/29"}]]""");
        var early = new Attachment("early", "eth0");
        Assert.Equal(["10.244.1.2/29"], Reserve(config, early));
        using (var store = AllocationStore.Open(dir.Path, "net"))
            store.CloseBlocks([Trellis.Addressing.Cidr.Parse("10.244.1.0/29")]);

        Assert.Equal(["10.244.1.18/29"], Reserve(config, new Attachment("late", "eth0")));
        Assert.Equal(["10.244.1.2/29"], Reserve(config, early));
        for (int i = 0; i < 4; i++) Reserve(config, new Attachment($"more{i}", "eth0"));
        var error = Assert.Throws<CniException>(() => Reserve(config, new Attachment("one-too-many", "eth0")));
        Assert.Contains("closed to new pods (10.244.1.0/29)", error.Message);
        Assert.DoesNotContain(AllocationStore.AllocatedAddresses(dir.Path, "net"), a => a.ToString() is "10.244.1.3" or "10.244.1.4" or "10.244.1.5" or "10.244.1.6");
    }
}
