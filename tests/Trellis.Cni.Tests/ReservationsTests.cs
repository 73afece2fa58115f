using System.Net;
using Trellis.Cni.Config;
using Trellis.Cni.Ipam;
using Trellis.Cni.Spec;
using Xunit;

namespace Trellis.Cni.Tests;

public sealed class ReservationsTests
{
    private static NetworkConfig Config(string dataDir, string ranges) =>
        NetworkConfigParser.Parse($$$"""{"cniVersion":"1.0.0","name":"net","ipam":{"ranges":{{{ranges}}},"dataDir":"{{{dataDir}}}"}}""");

    [Fact]
    public void DualStackGivesOneAddressPerFamilyAndTheSameOnesAgain()
    {
        using var dir = new TemporaryDirectory();
        var config = Config(dir.Path, """[[{"subnet":"10.244.1.0/24"}],[{"subnet":"fd00::/64"}]]""");
        var owner = new Attachment("c1", "eth0");
        var first = Reservations.Reserve(config, owner);
        Assert.Equal(["10.244.1.2/24", "fd00::2/64"], first.Select(r => r.Address.ToString()));
        Assert.Equal(first.Select(r => r.Address), Reservations.Reserve(config, owner).Select(r => r.Address));
        Assert.Equal(["10.244.1.3/24", "fd00::3/64"], Reservations.Reserve(config, new Attachment("c1", "net1")).Select(r => r.Address.ToString()));
        Assert.Equal(2, Reservations.Release(config, owner).Count);
        Assert.Empty(Reservations.HeldBy(config, owner));
    }

    [Fact]
    public void WhenOneFamilyIsExhaustedTheOtherIsNotKept()
    {
        using var dir = new TemporaryDirectory();
        var config = Config(dir.Path, """[[{"subnet":"10.244.1.0/24"}],[{"subnet":"fd00::/126"}]]""");
        Reservations.Reserve(config, new Attachment("a", "eth0"));
        Reservations.Reserve(config, new Attachment("b", "eth0"));
        var error = Assert.Throws<CniException>(() => Reservations.Reserve(config, new Attachment("c", "eth0")));
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
        Assert.Empty(Reservations.Release(config, new Attachment("nobody", "eth0")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path));
    }

    [Fact]
    public void ParallelReservationsNeverShareAnAddress()
    {
        using var dir = new TemporaryDirectory();
        var config = Config(dir.Path, """[[{"subnet":"10.244.1.0/24"}]]""");
        var addresses = new IPAddress[64];
        Parallel.For(0, addresses.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 },
            i => addresses[i] = Reservations.Reserve(config, new Attachment($"c{i}", "eth0"))[0].Address.Address);
        Assert.Equal(addresses.Length, addresses.Distinct().Count());
    }
}
