using System.Text.Json;
using k8s;
using k8s.Models;
using Trellis.ControllerRuntime.Clients;
using Trellis.ControllerRuntime.Tests.Cluster;
using Xunit;

namespace Trellis.ControllerRuntime.Tests.Clients;

public sealed class ApiJsonTests
{
    [Fact]
    public void ManagedFields_are_skipped_unread_and_never_written()
    {
        var read = ApiJson.Deserialize<V1Node>("""
            {"metadata":{"name":"n","managedFields":[{"manager":"kubelet","operation":"Update","fieldsType":"FieldsV1",
             "fieldsV1":{"f:metadata":{"f:labels":{"f:zone":{}}}}}],"labels":{"zone":"east"}}}
            """);
        Assert.Null(read.Metadata.ManagedFields);
        // What follows the skipped property is still read.
        Assert.Equal(("n", "east"), (read.Metadata.Name, read.Metadata.Labels["zone"]));

        var node = new V1Node { Metadata = new V1ObjectMeta { Name = "n", ManagedFields = [new V1ManagedFieldsEntry { Manager = "stale" }] } };
        var written = JsonDocument.Parse(ApiJson.Serialize(node)).RootElement.GetProperty("metadata");
        Assert.False(written.TryGetProperty("managedFields", out _));
        Assert.Equal("n", written.GetProperty("name").GetString());
    }

    /// <summary>
    /// Through Trellis' clients a list, a watch and a write's answer carry no managedFields, and a write that leaves them out
    /// keeps the server's (kube-apiserver's rule; the in-process server must follow it, or every agent write would wipe them).
    /// </summary>
    [Fact]
    public async Task Lists_watches_and_writes_carry_no_managedFields_and_the_server_keeps_its_own()
    {
        await using var cluster = await TestCluster.StartAsync();
        await cluster.RegisterWidgetsAsync();
        var widgets = new CustomResourceClient<Widget>(cluster.Api);
        var created = await widgets.CreateAsync(new Widget { Metadata = new V1ObjectMeta { Name = "w" }, Spec = new WidgetSpec { Size = 1 } });
        Assert.Null(created.Metadata.ManagedFields);

        var source = ResourceClients.ClusterCustom<Widget>(cluster.Api);
        var listed = await source.ListAsync(w => w, CancellationToken.None);
        Assert.Null(Assert.Single(listed.Items).Metadata.ManagedFields);

        using var watching = new CancellationTokenSource(TestCluster.Patience);
        var events = source.WatchAsync(listed.ResourceVersion, watching.Token).GetAsyncEnumerator(watching.Token);
        created.Spec.Size = 2;
        created.Metadata.ManagedFields = [new V1ManagedFieldsEntry { Manager = "stale", Operation = "Update" }];
        var replaced = await widgets.ReplaceAsync(created);
        Assert.Null(replaced.Metadata.ManagedFields);
        Assert.True(await events.MoveNextAsync());
        Assert.Equal((WatchEventKind.Modified, 2), (events.Current.Type, events.Current.Object.Spec.Size));
        Assert.Null(events.Current.Object.Metadata.ManagedFields);
        await events.DisposeAsync();

        // KubernetesClient reads them whole: the server still has its own, and never saw the stale entry.
        var raw = (JsonElement)await cluster.Client.CustomObjects.GetClusterCustomObjectAsync(Widget.Group, Widget.Version, Widget.Plural, "w");
        var managers = raw.GetProperty("metadata").GetProperty("managedFields").EnumerateArray()
            .Select(entry => entry.GetProperty("manager").GetString()).ToList();
        Assert.NotEmpty(managers);
        Assert.DoesNotContain("stale", managers);
    }
}
