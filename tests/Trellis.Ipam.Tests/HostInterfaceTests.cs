using Xunit;

namespace Trellis.Ipam.Tests;

public sealed class HostInterfaceTests
{
    private static readonly Attachment Owner = new("0123456789abcdef", "eth0");

    [Fact]
    public void ANameIsVethAndElevenBase32CharactersFromTheAttachmentAndAttempt()
    {
        var name = HostInterface.Name(Owner, 0);
        Assert.Equal(name, HostInterface.Name(new Attachment("0123456789abcdef", "eth0"), 0));
        Assert.Matches("^veth[a-z2-7]{11}$", name);
        Assert.Equal(15, name.Length);
        Assert.NotEqual(name, HostInterface.Name(Owner, 1));
        Assert.NotEqual(name, HostInterface.Name(Owner with { IfName = "eth1" }, 0));
        Assert.NotEqual(name, HostInterface.Name(Owner with { ContainerId = "0123456789abcdeg" }, 0));
        Assert.Equal(HostInterface.NameAttempts, HostInterface.Names(Owner).Distinct().Count());
        Assert.Equal(name, HostInterface.Names(Owner).First());
    }

    [Fact]
    public void ThePartsCannotBeShuffledIntoTheSameName()
    {
        Assert.NotEqual(HostInterface.Name(new Attachment("ab", "c"), 0), HostInterface.Name(new Attachment("a", "bc"), 0));
        Assert.NotEqual(HostInterface.Name(new Attachment("a1", "b"), 0), HostInterface.Name(new Attachment("a", "1b"), 0));
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
            var name = HostInterface.Name(new Attachment(id, "eth0"), 0);
            Assert.True(names.Add(name), $"{name} was given twice");
            for (int p = 4; p < name.Length; p++) seen.Add((p, name[p]));
        }
        Assert.Equal(11 * 32, seen.Count);
    }

    [Fact]
    public void TheFormerPluginsNamesAreReproducedExactly()
    {
        // As the plugin at d1203ea named the host veth of these attachments (seen in its ADD results).
        Assert.Equal("veth4597da78", HostInterface.LegacyName(new Attachment("c1", "eth0")));
        Assert.Matches("^veth[0-9a-f]{8}$", HostInterface.LegacyName(Owner));
    }

    [Fact]
    public void TheMarkNamesTheAttachmentAndFitsAnAlias()
    {
        Assert.Equal("trellis-cni 0123456789abcdef/eth0", HostInterface.Mark(Owner));
        Assert.True(HostInterface.IsMarkOf("trellis-cni 0123456789abcdef/eth0", Owner));
        Assert.False(HostInterface.IsMarkOf("trellis-cni 0123456789abcdef/eth1", Owner));
        Assert.False(HostInterface.IsMarkOf(null, Owner));
        var longest = new Attachment(new string('a', HostInterface.MaxContainerIdLength), "fifteen-bytes-x");
        Assert.True(System.Text.Encoding.UTF8.GetByteCount(HostInterface.Mark(longest)) <= 255);
    }
}
