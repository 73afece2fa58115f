using System.Net;
using System.Text.Json.Nodes;
using Trellis.Addressing;
using Trellis.Cni.Spec;
using Xunit;

namespace Trellis.Cni.Tests;

public sealed class ResultJsonTests
{
    private static readonly CniResult DualStack = new(
        [
            new ResultInterface("veth1a2b3c4d", "aa:bb:cc:dd:ee:01", null, null),
            new ResultInterface("eth0", "aa:bb:cc:dd:ee:02", 1500, "/run/netns/pod"),
        ],
        [
            new ResultIp(IpPrefix.Parse("10.244.1.2/24"), IPAddress.Parse("10.244.1.1"), 1),
            new ResultIp(IpPrefix.Parse("fd00::2/64"), IPAddress.Parse("fd00::1"), 1),
        ],
        [
            new ResultRoute(Cidr.Parse("0.0.0.0/0"), IPAddress.Parse("10.244.1.1")),
            new ResultRoute(Cidr.Parse("::/0"), IPAddress.Parse("fd00::1")),
        ],
        DnsSettings.Empty);

    private static string Canonical(string json) => JsonNode.Parse(json)!.ToJsonString();

    private static string Expected(string version, bool ipVersions) => Canonical($$$"""
        {"cniVersion":"{{{version}}}",
         "interfaces":[{"name":"veth1a2b3c4d","mac":"aa:bb:cc:dd:ee:01"},{"name":"eth0","mac":"aa:bb:cc:dd:ee:02","mtu":1500,"sandbox":"/run/netns/pod"}],
         "ips":[{{{(ipVersions ? "{\"version\":\"4\"," : "{")}}}"interface":1,"address":"10.244.1.2/24","gateway":"10.244.1.1"},
                {{{(ipVersions ? "{\"version\":\"6\"," : "{")}}}"interface":1,"address":"fd00::2/64","gateway":"fd00::1"}],
         "routes":[{"dst":"0.0.0.0/0","gw":"10.244.1.1"},{"dst":"::/0","gw":"fd00::1"}],
         "dns":{}}
        """);

    [Theory]
    [InlineData("0.3.0", true)]
    [InlineData("0.3.1", true)]
    [InlineData("0.4.0", true)]
    [InlineData("1.0.0", false)]
    [InlineData("1.1.0", false)]
    public void ShapesTheResultForEachVersion(string version, bool ipVersions)
    {
        Assert.True(CniVersion.TryParse(version, out var v));
        Assert.Equal(Expected(version, ipVersions), Canonical(ResultJson.Write(DualStack, null, v)));
    }

    [Fact]
    public void WritesConfiguredDns()
    {
        var result = DualStack with { Dns = new DnsSettings(["10.96.0.10"], "cluster.local", ["svc.cluster.local"], ["ndots:5"]) };
        var json = JsonNode.Parse(ResultJson.Write(result, null, CniVersion.V1_0_0))!;
        Assert.Equal(Canonical("""{"nameservers":["10.96.0.10"],"domain":"cluster.local","search":["svc.cluster.local"],"options":["ndots:5"]}"""),
            json["dns"]!.ToJsonString());
    }

    [Fact]
    public void ChainingKeepsThePreviousResultAndShiftsOurInterfaceIndices()
    {
        var previous = JsonNode.Parse("""
            {"cniVersion":"0.4.0",
             "interfaces":[{"name":"other0","mac":"00:00:00:00:00:09","socketPath":"/x"}],
             "ips":[{"version":"4","interface":0,"address":"192.168.7.2/24"}],
             "routes":[{"dst":"192.168.0.0/16","gw":"192.168.7.1","mtu":1400}],
             "dns":{"nameservers":["1.1.1.1"]}}
            """)!.AsObject();
        var json = JsonNode.Parse(ResultJson.Write(DualStack, previous, CniVersion.V1_0_0))!;
        Assert.Equal("1.0.0", (string?)json["cniVersion"]);
        Assert.Equal(["other0", "veth1a2b3c4d", "eth0"], json["interfaces"]!.AsArray().Select(i => (string?)i!["name"]));
        Assert.Equal("/x", (string?)json["interfaces"]![0]!["socketPath"]);
        var ips = json["ips"]!.AsArray();
        Assert.Equal(3, ips.Count);
        Assert.Equal(0, (int?)ips[0]!["interface"]);
        Assert.Null(ips[0]!["version"]);
        Assert.Equal(2, (int?)ips[1]!["interface"]);
        Assert.Equal(2, (int?)ips[2]!["interface"]);
        Assert.Equal(1400, (int?)json["routes"]![0]!["mtu"]);
        Assert.Equal(3, json["routes"]!.AsArray().Count);
        Assert.Equal("1.1.1.1", (string?)json["dns"]!["nameservers"]![0]);
        Assert.Equal("0.4.0", (string?)previous["cniVersion"]);
    }

    [Fact]
    public void ChainingIntoAnOldVersionAddsIpVersions()
    {
        var previous = JsonNode.Parse("""{"cniVersion":"1.0.0","interfaces":[],"ips":[{"address":"fd00::9/64"}]}""")!.AsObject();
        var json = JsonNode.Parse(ResultJson.Write(DualStack, previous, CniVersion.V0_3_1))!;
        Assert.Equal(["6", "4", "6"], json["ips"]!.AsArray().Select(i => (string?)i!["version"]));
        Assert.Equal(1, (int?)json["ips"]![1]!["interface"]);
    }

    [Fact]
    public void ReadsAResultBack()
    {
        var result = ResultJson.Read(JsonNode.Parse(ResultJson.Write(DualStack, null, CniVersion.V0_4_0))!.AsObject());
        Assert.Equal(DualStack.Interfaces, result.Interfaces);
        Assert.Equal(DualStack.Ips, result.Ips);
        Assert.Equal(DualStack.Routes, result.Routes);
    }

    [Theory]
    [InlineData("""{"interfaces":[{"mac":"x"}]}""", "interfaces")]
    [InlineData("""{"ips":[{"address":"10.0.0.1"}]}""", "ips")]
    [InlineData("""{"ips":[{"address":"10.0.0.1/24","gateway":"nope"}]}""", "gateway")]
    [InlineData("""{"routes":[{"dst":"10.0.0.1/8"}]}""", "routes")]
    public void ReadingABadResultNamesTheField(string json, string field)
    {
        var error = Assert.Throws<CniException>(() => ResultJson.Read(JsonNode.Parse(json)!.AsObject()));
        Assert.Equal(CniErrorCode.InvalidConfig, error.Code);
        Assert.Contains(field, error.Message);
    }
}
