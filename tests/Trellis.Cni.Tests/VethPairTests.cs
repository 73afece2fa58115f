using Trellis.Cni.Environment;
using Trellis.Cni.Wiring;
using Xunit;

namespace Trellis.Cni.Tests;

public sealed class VethPairTests
{
    [Fact]
    public void TheHostNameIsDerivedFromTheAttachmentAlone()
    {
        var name = VethPair.HostName("0123456789abcdef", "eth0");
        Assert.Equal(name, VethPair.HostName("0123456789abcdef", "eth0"));
        Assert.Matches("^veth[0-9a-f]{8}$", name);
        Assert.Null(CniEnvironment.InterfaceNameError(name, "host veth"));
        Assert.NotEqual(name, VethPair.HostName("0123456789abcdef", "eth1"));
        Assert.NotEqual(name, VethPair.HostName("0123456789abcdeg", "eth0"));
    }

    [Fact]
    public void ThePartsCannotBeShuffledIntoTheSameName() =>
        Assert.NotEqual(VethPair.HostName("ab", "c"), VethPair.HostName("a", "bc"));

    [Fact]
    public void AThousandContainersGetAThousandNames() =>
        Assert.Equal(1000, Enumerable.Range(0, 1000).Select(i => VethPair.HostName($"container{i}", "eth0")).Distinct().Count());
}
