using System.Text.Json.Nodes;
using Trellis.Cni.Spec;
using Xunit;

namespace Trellis.Cni.Tests;

public sealed class CniErrorTests
{
    [Fact]
    public void ErrorJsonHasTheSpecShape()
    {
        var json = JsonNode.Parse(new CniException(CniErrorCode.TryAgainLater, "range 10.244.1.0/24 is exhausted", "254 of 254 in use").ToJson(CniVersion.V1_0_0))!.AsObject();
        Assert.Equal(["cniVersion", "code", "msg", "details"], json.Select(p => p.Key));
        Assert.Equal("1.0.0", (string?)json["cniVersion"]);
        Assert.Equal(11, (int?)json["code"]);
        Assert.Equal("range 10.244.1.0/24 is exhausted", (string?)json["msg"]);
        Assert.Equal("254 of 254 in use", (string?)json["details"]);
    }

    [Fact]
    public void DetailsAreLeftOutWhenThereAreNone()
    {
        var json = JsonNode.Parse(new CniException(CniErrorCode.InvalidConfig, "bad").ToJson(CniVersion.V0_4_0))!.AsObject();
        Assert.Equal(["cniVersion", "code", "msg"], json.Select(p => p.Key));
        Assert.Equal("0.4.0", (string?)json["cniVersion"]);
    }

    [Fact]
    public void SentencesStayReadableInTheRawJson()
    {
        var text = new CniException(CniErrorCode.InvalidEnvironment, "CNI_NETNS /x is the plugin's own network namespace").ToJson(CniVersion.V1_1_0);
        Assert.Contains("\"msg\": \"CNI_NETNS /x is the plugin's own network namespace\"", text);
    }

    [Fact]
    public void MessagesAreEscaped()
    {
        var json = JsonNode.Parse(new CniException(CniErrorCode.InvalidConfig, "quote \" and \n newline").ToJson(CniVersion.V1_1_0))!;
        Assert.Equal("quote \" and \n newline", (string?)json["msg"]);
    }
}
