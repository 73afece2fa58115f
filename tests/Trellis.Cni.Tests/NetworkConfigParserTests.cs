using Trellis.Addressing;
using System.Net;
using Trellis.Cni.Config;
using Trellis.Cni.Spec;
using Trellis.Ipam;
using Xunit;

namespace Trellis.Cni.Tests;

public sealed class NetworkConfigParserTests
{
    private static string Config(string ranges, string extra = "") =>
        $$$"""{"cniVersion":"1.0.0","name":"trellis","type":"trellis-cni"{{{extra}}},"ipam":{"ranges":{{{ranges}}},"dataDir":"/tmp/x"}}""";

    [Fact]
    public void ReadsTheExampleFromTheIssue()
    {
        var config = NetworkConfigParser.Parse("""
            {"cniVersion":"1.0.0","name":"trellis","type":"trellis-cni","bridge":"trellis0","mtu":1500,
             "ipam":{"ranges":[[{"subnet":"10.244.1.0/24"}]],"dataDir":"/var/lib/trellis/ipam"}}
            """);
        Assert.Equal(CniVersion.V1_0_0, config.CniVersion);
        Assert.Equal("trellis", config.Name);
        Assert.Equal("trellis0", config.Bridge);
        Assert.Equal(1500, config.Mtu);
        Assert.Equal("/var/lib/trellis/ipam", config.Ipam.DataDir);
        var range = Assert.Single(Assert.Single(config.Ipam.RangeSets).Ranges);
        Assert.Equal(Cidr.Parse("10.244.1.0/24"), range.Subnet);
        Assert.Equal(IPAddress.Parse("10.244.1.1"), range.Gateway);
        Assert.Equal(IPAddress.Parse("10.244.1.1"), range.RangeStart);
        Assert.Equal(IPAddress.Parse("10.244.1.254"), range.RangeEnd);
        Assert.Null(config.PrevResult);
        Assert.Null(config.ValidAttachments);
    }

    [Fact]
    public void FillsDefaults()
    {
        var config = NetworkConfigParser.Parse("""{"cniVersion":"0.4.0","name":"n"}""");
        Assert.Equal(NodeContract.DefaultBridge, config.Bridge);
        Assert.Null(config.Mtu);
        Assert.Empty(config.Ipam.RangeSets);
        Assert.Equal(NodeContract.DefaultIpamDataDirectory, config.Ipam.DataDir);
        Assert.True(config.Dns.IsEmpty);
    }

    [Fact]
    public void IPv6RangeEndsAtTheLastAddressAndDualStackKeepsBothSets()
    {
        var config = NetworkConfigParser.Parse(Config("""[[{"subnet":"10.244.1.0/24"}],[{"subnet":"fd00:10:244:1::/64","gateway":"fd00:10:244:1::fe"}]]"""));
        Assert.Equal(2, config.Ipam.RangeSets.Count);
        var v6 = config.Ipam.RangeSets[1].Ranges[0];
        Assert.Equal(IPAddress.Parse("fd00:10:244:1:ffff:ffff:ffff:ffff"), v6.RangeEnd);
        Assert.Equal(IPAddress.Parse("fd00:10:244:1::fe"), v6.Gateway);
    }

    [Fact]
    public void HonoursRangeStartAndEndAndReadsDnsPrevResultAndAttachments()
    {
        var config = NetworkConfigParser.Parse(Config(
            """[[{"subnet":"10.244.1.0/24","rangeStart":"10.244.1.100","rangeEnd":"10.244.1.110"}]]""",
            ""","dns":{"nameservers":["10.96.0.10"],"domain":"cluster.local","search":["a","b"],"options":["ndots:5"]},"prevResult":{"ips":[]},"cni.dev/valid-attachments":[{"containerID":"c1","ifname":"eth0"}]"""));
        var range = config.Ipam.RangeSets[0].Ranges[0];
        Assert.Equal(IPAddress.Parse("10.244.1.100"), range.RangeStart);
        Assert.Equal(IPAddress.Parse("10.244.1.110"), range.RangeEnd);
        Assert.Equal(["10.96.0.10"], config.Dns.Nameservers);
        Assert.Equal("cluster.local", config.Dns.Domain);
        Assert.Equal(["a", "b"], config.Dns.Search);
        Assert.Equal(["ndots:5"], config.Dns.Options);
        Assert.NotNull(config.PrevResult);
        Assert.Equal(new Attachment("c1", "eth0"), Assert.Single(config.ValidAttachments!));
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("\"text\"")]
    public void UndecodableConfigIsCode6(string text)
    {
        var error = Assert.Throws<CniException>(() => NetworkConfigParser.Parse(text));
        Assert.Equal(CniErrorCode.DecodingFailure, error.Code);
    }

    [Theory]
    [InlineData("0.2.0")]
    [InlineData("0.1.0")]
    [InlineData("2.0.0")]
    [InlineData("1.0")]
    [InlineData("banana")]
    public void UnsupportedVersionIsCode1(string version)
    {
        var error = Assert.Throws<CniException>(() => NetworkConfigParser.Parse($$"""{"cniVersion":"{{version}}","name":"n"}"""));
        Assert.Equal(CniErrorCode.IncompatibleVersion, error.Code);
        Assert.Contains(version, error.Message);
    }

    [Theory]
    [InlineData("""{"name":"n"}""", "cniVersion")]
    [InlineData("""{"cniVersion":"1.0.0"}""", "name")]
    [InlineData("""{"cniVersion":"1.0.0","name":"../etc"}""", "name")]
    [InlineData("""{"cniVersion":"1.0.0","name":"a/b"}""", "name")]
    [InlineData("""{"cniVersion":"1.0.0","name":".."}""", "name")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","bridge":"a-name-longer-than-15"}""", "bridge")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","bridge":"a/b"}""", "bridge")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","bridge":"br%d"}""", "bridge")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","mtu":"1500"}""", "mtu")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","mtu":20}""", "mtu")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","mtu":67}""", "mtu: MTU 67 is outside 68..65535")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","mtu":65536}""", "mtu: MTU 65536 is outside 68..65535")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","mtu":1279,"ipam":{"ranges":[[{"subnet":"10.244.1.0/24"}],[{"subnet":"fd00::/64"}]]}}""", "mtu: MTU 1279 is below 1280")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","mtu":1500.5}""", "mtu")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","ipam":[]}""", "ipam")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","ipam":{"dataDir":"relative/dir"}}""", "ipam.dataDir")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","ipam":{"ranges":{}}}""", "ipam.ranges")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","ipam":{"ranges":[[]]}}""", "ipam.ranges[0]")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","ipam":{"ranges":[[{}]]}}""", "ipam.ranges[0][0].subnet")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","ipam":{"ranges":[[{"subnet":"10.244.1.0/33"}]]}}""", "ipam.ranges[0][0].subnet")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","ipam":{"ranges":[[{"subnet":"10.244.1.7/24"}]]}}""", "ipam.ranges[0][0].subnet")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","ipam":{"ranges":[[{"subnet":"banana"}]]}}""", "ipam.ranges[0][0].subnet")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","ipam":{"ranges":[[{"subnet":"10.244.1.0/31"}]]}}""", "ipam.ranges[0][0].subnet")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","ipam":{"ranges":[[{"subnet":"10.244.1.0/32"}]]}}""", "ipam.ranges[0][0].subnet")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","ipam":{"ranges":[[{"subnet":"fd00::/127"}]]}}""", "ipam.ranges[0][0].subnet")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","ipam":{"ranges":[[{"subnet":"10.244.1.0/24","gateway":"10.244.2.1"}]]}}""", "ipam.ranges[0][0].gateway")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","ipam":{"ranges":[[{"subnet":"10.244.1.0/24","gateway":"fd00::1"}]]}}""", "ipam.ranges[0][0].gateway")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","ipam":{"ranges":[[{"subnet":"10.244.1.0/24","gateway":"10.244.1"}]]}}""", "ipam.ranges[0][0].gateway")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","ipam":{"ranges":[[{"subnet":"10.244.1.0/24","rangeStart":"10.244.0.9"}]]}}""", "ipam.ranges[0][0].rangeStart")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","ipam":{"ranges":[[{"subnet":"10.244.1.0/24","rangeEnd":"10.245.1.9"}]]}}""", "ipam.ranges[0][0].rangeEnd")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","ipam":{"ranges":[[{"subnet":"10.244.1.0/24","rangeStart":"10.244.1.50","rangeEnd":"10.244.1.40"}]]}}""", "rangeStart")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","ipam":{"ranges":[[{"subnet":"10.244.1.0/24"}],[{"subnet":"10.245.1.0/24"}]]}}""", "ipam.ranges[1]")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","ipam":{"ranges":[[{"subnet":"10.244.1.0/24"},{"subnet":"fd00::/64"}]]}}""", "ipam.ranges[0][1]")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","ipam":{"ranges":[[{"subnet":"10.244.1.0/24"},{"subnet":"10.244.1.0/25"}]]}}""", "ipam.ranges[0][1]")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","dns":{"nameservers":[1]}}""", "dns.nameservers")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","prevResult":[]}""", "prevResult")]
    [InlineData("""{"cniVersion":"1.0.0","name":"n","cni.dev/valid-attachments":[{"ifname":"eth0"}]}""", "containerID")]
    public void InvalidConfigIsCode7AndNamesTheField(string text, string field)
    {
        var error = Assert.Throws<CniException>(() => NetworkConfigParser.Parse(text));
        Assert.Equal(CniErrorCode.InvalidConfig, error.Code);
        Assert.Contains(field, error.Message);
    }

    [Theory]
    [InlineData(68, """[[{"subnet":"10.244.1.0/24"}]]""")]
    [InlineData(1279, """[[{"subnet":"10.244.1.0/24"}]]""")]
    [InlineData(1280, """[[{"subnet":"10.244.1.0/24"}],[{"subnet":"fd00::/64"}]]""")]
    [InlineData(65535, """[[{"subnet":"fd00::/64"}]]""")]
    public void AnMtuWithinTheBoundsOfTheRangesFamiliesIsTaken(int mtu, string ranges)
    {
        var config = NetworkConfigParser.Parse($$$"""{"cniVersion":"1.0.0","name":"n","mtu":{{{mtu}}},"ipam":{"ranges":{{{ranges}}}}}""");
        Assert.Equal(mtu, config.Mtu);
    }

    [Fact]
    public void ValidAttachmentsAreAlsoReadUnderTheirEarlierName()
    {
        var config = NetworkConfigParser.Parse("""{"cniVersion":"1.1.0","name":"n","cni.dev/attachments":[{"containerID":"c2","ifname":"net1"}]}""");
        Assert.Equal(new Attachment("c2", "net1"), Assert.Single(config.ValidAttachments!));
        var empty = NetworkConfigParser.Parse("""{"cniVersion":"1.1.0","name":"n","cni.dev/valid-attachments":[]}""");
        Assert.Empty(empty.ValidAttachments!);
    }

    [Fact]
    public void VersionForErrorsFallsBackToTheLatest()
    {
        Assert.Equal(CniVersion.V0_3_1, NetworkConfigParser.VersionForErrors("""{"cniVersion":"0.3.1"}"""));
        Assert.Equal(CniVersion.Latest, NetworkConfigParser.VersionForErrors("""{"cniVersion":"9.9.9"}"""));
        Assert.Equal(CniVersion.Latest, NetworkConfigParser.VersionForErrors("{"));
        Assert.Equal(CniVersion.Latest, NetworkConfigParser.VersionForErrors(null));
    }
}
