using Trellis.ApiServer.Routing;

namespace Trellis.ApiServer.Tests;

public sealed class RoutingTests
{
    [Theory]
    [InlineData("/api/v1/nodes", "", "v1", null, "nodes", null, null, false)]
    [InlineData("/api/v1/nodes/n1", "", "v1", null, "nodes", "n1", null, false)]
    [InlineData("/api/v1/nodes/n1/status", "", "v1", null, "nodes", "n1", "status", false)]
    [InlineData("/api/v1/namespaces", "", "v1", null, "namespaces", null, null, false)]
    [InlineData("/api/v1/namespaces/default", "", "v1", null, "namespaces", "default", null, false)]
    [InlineData("/api/v1/namespaces/default/status", "", "v1", null, "namespaces", "default", "status", false)]
    [InlineData("/api/v1/namespaces/default/events", "", "v1", "default", "events", null, null, false)]
    [InlineData("/api/v1/namespaces/default/events/e1", "", "v1", "default", "events", "e1", null, false)]
    [InlineData("/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/op", "coordination.k8s.io", "v1", "kube-system", "leases", "op", null, false)]
    [InlineData("/apis/trellis.io/v1alpha1/nodesubnets/a.b/status", "trellis.io", "v1alpha1", null, "nodesubnets", "a.b", "status", false)]
    [InlineData("/apis/trellis.io/v1alpha1/podnetworks", "trellis.io", "v1alpha1", null, "podnetworks", null, null, false)]
    [InlineData("/api/v1/watch/nodes", "", "v1", null, "nodes", null, null, true)]
    [InlineData("/api/v1/watch/namespaces/default/events/e1", "", "v1", "default", "events", "e1", null, true)]
    [InlineData("/apis/g/v1/watch/namespaces/ns/things", "g", "v1", "ns", "things", null, null, true)]
    public void ParsesResourcePaths(string path, string group, string version, string? ns, string plural, string? name, string? subresource, bool watch) =>
        Assert.Equal(new ResourcePath(group, version, ns, plural, name, subresource, watch), ResourcePath.Parse(path));

    [Theory]
    [InlineData("/")]
    [InlineData("/api")]
    [InlineData("/api/v1")]
    [InlineData("/apis/g/v1")]
    [InlineData("/healthz")]
    [InlineData("/api/v1/nodes/a/b/c")]
    [InlineData("/api/v1/watch/nodes/n1/status")]
    public void OtherPathsAreNotResources(string path) => Assert.Null(ResourcePath.Parse(path));
}
