using System.Text.Json.Nodes;
using Trellis.ApiServer.Patching;

namespace Trellis.ApiServer.Tests.Patching;

public sealed class StrategicMergePatchTests
{
    [Theory]
    [InlineData("""{"a":1,"b":{"c":2}}""", """{"b":{"d":3},"a":null}""", """{"b":{"c":2,"d":3}}""")]
    [InlineData("""{"containers":[{"name":"a","image":"x"},{"name":"b","image":"y"}]}""", """{"containers":[{"name":"b","image":"z"}]}""", """{"containers":[{"name":"a","image":"x"},{"name":"b","image":"z"}]}""")]
    [InlineData("""{"containers":[{"name":"a","image":"x"}]}""", """{"containers":[{"name":"c","image":"w"}]}""", """{"containers":[{"name":"a","image":"x"},{"name":"c","image":"w"}]}""")]
    [InlineData("""{"containers":[{"name":"a","image":"x"},{"name":"b"}]}""", """{"containers":[{"name":"a","$patch":"delete"}]}""", """{"containers":[{"name":"b"}]}""")]
    [InlineData("""{"containers":[{"name":"a","image":"x"}]}""", """{"containers":[{"name":"b"},{"$patch":"replace"}]}""", """{"containers":[{"name":"b"}]}""")]
    [InlineData("""{"args":["a","b"]}""", """{"args":["c"]}""", """{"args":["c"]}""")]
    [InlineData("""{"taints":[]}""", """{"taints":[{"key":"k"}]}""", """{"taints":[{"key":"k"}]}""")]
    [InlineData("""{"spec":{"a":1,"b":2}}""", """{"spec":{"$patch":"replace","c":3}}""", """{"spec":{"c":3}}""")]
    [InlineData("""{"spec":{"a":1},"other":1}""", """{"spec":{"$patch":"delete"}}""", """{"other":1}""")]
    [InlineData("""{"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}}}""", """{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}""", """{"strategy":{"type":"Recreate"}}""")]
    [InlineData("""{"finalizers":["a","b","c"]}""", """{"$deleteFromPrimitiveList/finalizers":["b"]}""", """{"finalizers":["a","c"]}""")]
    [InlineData("""{"containers":[{"name":"a"}]}""", """{"$setElementOrder/containers":[{"name":"a"}],"containers":[{"name":"a","image":"i"}]}""", """{"containers":[{"name":"a","image":"i"}]}""")]
    [InlineData("""{}""", """{"spec":{"nested":{"$patch":"replace","x":1}}}""", """{"spec":{"nested":{"x":1}}}""")]
    public void MergesLikeKubectlExpects(string target, string patch, string expected)
    {
        var result = StrategicMergePatch.Apply(JsonNode.Parse(target), JsonNode.Parse(patch));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), result), result?.ToJsonString() ?? "null");
    }

    [Fact]
    public void UnknownDirectiveIsMalformed() =>
        Assert.True(Assert.Throws<PatchException>(() => StrategicMergePatch.Apply(new JsonObject(), JsonNode.Parse("""{"$patch":"explode"}"""))).Malformed);
}
