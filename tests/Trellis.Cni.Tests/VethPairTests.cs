using Trellis.Cni.Environment;
using Trellis.Cni.Wiring;
using Trellis.Ipam;
using Xunit;

namespace Trellis.Cni.Tests;

public sealed class VethPairTests
{
    private static readonly Attachment Owner = new("0123456789abcdef", "eth0");

    [Fact]
    public void TheHostNameIsVethAndElevenBase32CharactersFromTheAttachmentAndAttempt()
    {
        var name = VethPair.HostName(Owner, 0);
        Assert.Equal(name, VethPair.HostName(new Attachment("0123456789abcdef", "eth0"), 0));
        Assert.Matches("^veth[a-z2-7]{11}$", name);
        Assert.Null(CniEnvironment.InterfaceNameError(name, "host veth"));
        Assert.NotEqual(name, VethPair.HostName(Owner, 1));
        Assert.NotEqual(name, VethPair.HostName(Owner with { IfName = "eth1" }, 0));
        Assert.NotEqual(name, VethPair.HostName(Owner with { ContainerId = "0123456789abcdeg" }, 0));
    }

    [Fact]
    public void ThePartsCannotBeShuffledIntoTheSameName()
    {
        Assert.NotEqual(VethPair.HostName(new Attachment("ab", "c"), 0), VethPair.HostName(new Attachment("a", "bc"), 0));
        Assert.NotEqual(VethPair.HostName(new Attachment("a1", "b"), 0), VethPair.HostName(new Attachment("a", "1b"), 0));
    }

    /// <summary>
    /// The former 32 bits collided among about 85,000 random IDs; 55 bits put the expected first
    /// collision near 200 million, so 300,000 names must all differ, and every one of the 55 bits
    /// must vary (a bit stuck at one value would halve the space unseen).
    /// </summary>
    [Fact]
    public void ThreeHundredThousandContainersGetDistinctNamesUsingEveryBit()
    {
        var names = new HashSet<string>();
        var seen = new HashSet<(int Position, char Character)>();
        var random = new Random(8);
        for (int i = 0; i < 300_000; i++)
        {
            var id = Convert.ToHexStringLower(BitConverter.GetBytes(random.NextInt64())) + Convert.ToHexStringLower(BitConverter.GetBytes(random.NextInt64()));
            var name = VethPair.HostName(new Attachment(id, "eth0"), 0);
            Assert.True(names.Add(name), $"{name} was given twice");
            for (int p = 4; p < name.Length; p++) seen.Add((p, name[p]));
        }
        Assert.Equal(11 * 32, seen.Count);
    }
}
