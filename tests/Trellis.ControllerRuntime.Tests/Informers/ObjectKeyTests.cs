using k8s.Models;
using Trellis.ControllerRuntime.Informers;
using Xunit;

namespace Trellis.ControllerRuntime.Tests.Informers;

public sealed class ObjectKeyTests
{
    [Fact]
    public void ClusterScopedObjectKeyIsItsName()
    {
        var node = new V1Node { Metadata = new V1ObjectMeta { Name = "worker-1" } };
        Assert.Equal("worker-1", ObjectKey.KeyOf(node));
        Assert.Equal(new ObjectKey(null, "worker-1"), ObjectKey.Of(node));
    }

    [Fact]
    public void NamespacedObjectKeyIsNamespaceSlashName()
    {
        var pod = new V1Pod { Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "shop" } };
        Assert.Equal("shop/web", ObjectKey.KeyOf(pod));
    }

    [Fact]
    public void EmptyNamespaceCountsAsClusterScoped()
    {
        var node = new V1Node { Metadata = new V1ObjectMeta { Name = "n", NamespaceProperty = "" } };
        Assert.Equal("n", ObjectKey.KeyOf(node));
    }

    [Theory]
    [InlineData("n", null, "n")]
    [InlineData("ns/n", "ns", "n")]
    public void ParseRoundTrips(string text, string? ns, string name)
    {
        var key = ObjectKey.Parse(text);
        Assert.Equal(new ObjectKey(ns, name), key);
        Assert.Equal(text, key.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("/n")]
    [InlineData("ns/")]
    [InlineData("a/b/c")]
    public void ParseRejectsMalformedKeysNamingThem(string text)
    {
        var error = Assert.Throws<FormatException>(() => ObjectKey.Parse(text));
        Assert.Contains($"\"{text}\"", error.Message);
    }

    [Fact]
    public void ObjectWithoutNameHasNoKey()
    {
        var error = Assert.Throws<ArgumentException>(() => ObjectKey.Of(new V1Node { Kind = "Node", Metadata = new V1ObjectMeta() }));
        Assert.Contains("Node", error.Message);
    }
}
