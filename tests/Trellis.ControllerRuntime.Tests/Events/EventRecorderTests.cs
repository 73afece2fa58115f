using k8s;
using k8s.Models;
using Trellis.ControllerRuntime.Events;
using Trellis.ControllerRuntime.Tests.Cluster;
using Xunit;

namespace Trellis.ControllerRuntime.Tests.Events;

public sealed class EventRecorderTests
{
    [Fact]
    public async Task RecordsAnEventAboutAClusterScopedObjectInTheDefaultNamespace()
    {
        await using var cluster = await TestCluster.StartAsync();
        var node = await cluster.CreateNodeAsync("node-a");
        var recorder = new EventRecorder(cluster.Api, "trellis-operator", "replica-1");

        var recorded = await recorder.WarningAsync(node, "PoolExhausted", "no block left for node-a", CancellationToken.None);

        Assert.NotNull(recorded);
        var events = (await cluster.Client.CoreV1.ListNamespacedEventAsync("default")).Items;
        var stored = Assert.Single(events);
        Assert.Equal("Warning", stored.Type);
        Assert.Equal("PoolExhausted", stored.Reason);
        Assert.Equal("no block left for node-a", stored.Message);
        Assert.Equal(1, stored.Count);
        Assert.Equal("Node", stored.InvolvedObject.Kind);
        Assert.Equal("v1", stored.InvolvedObject.ApiVersion);
        Assert.Equal("node-a", stored.InvolvedObject.Name);
        Assert.Equal(node.Metadata.Uid, stored.InvolvedObject.Uid);
        Assert.Equal("trellis-operator", stored.ReportingComponent);
        Assert.Equal("replica-1", stored.ReportingInstance);
        Assert.Equal("trellis-operator", stored.Source.Component);
    }

    [Fact]
    public async Task RepeatsAreCountedOnOneEventAndDifferentMessagesAreSeparate()
    {
        await using var cluster = await TestCluster.StartAsync();
        var node = await cluster.CreateNodeAsync("node-a");
        var recorder = new EventRecorder(cluster.Api, "trellis-operator");

        for (var i = 0; i < 3; i++)
            await recorder.WarningAsync(node, "PoolExhausted", "no block left", CancellationToken.None);
        await recorder.NormalAsync(node, "Allocated", "10.244.1.0/24", CancellationToken.None);

        var events = (await cluster.Client.CoreV1.ListNamespacedEventAsync("default")).Items;
        Assert.Equal(2, events.Count);
        var repeated = Assert.Single(events, e => e.Reason == "PoolExhausted");
        Assert.Equal(3, repeated.Count);
        Assert.True(repeated.LastTimestamp >= repeated.FirstTimestamp);
        Assert.Equal(1, Assert.Single(events, e => e.Reason == "Allocated").Count);
    }

    [Fact]
    public async Task RepeatAfterTheWindowStartsANewEvent()
    {
        await using var cluster = await TestCluster.StartAsync();
        var node = await cluster.CreateNodeAsync("node-a");
        var recorder = new EventRecorder(cluster.Api, "trellis-operator", deduplicationWindow: TimeSpan.FromMilliseconds(50));

        await recorder.NormalAsync(node, "Synced", "ok", CancellationToken.None);
        await Task.Delay(200);
        await recorder.NormalAsync(node, "Synced", "ok", CancellationToken.None);

        var events = (await cluster.Client.CoreV1.ListNamespacedEventAsync("default")).Items;
        Assert.Equal(2, events.Count);
        Assert.All(events, e => Assert.Equal(1, e.Count));
    }

    [Fact]
    public async Task ExpiredEventIsRecreatedInsteadOfBumped()
    {
        await using var cluster = await TestCluster.StartAsync();
        var node = await cluster.CreateNodeAsync("node-a");
        var recorder = new EventRecorder(cluster.Api, "trellis-operator");

        var first = await recorder.NormalAsync(node, "Synced", "ok", CancellationToken.None);
        await cluster.Client.CoreV1.DeleteNamespacedEventAsync(first!.Metadata.Name, "default");
        var second = await recorder.NormalAsync(node, "Synced", "ok", CancellationToken.None);

        Assert.NotNull(second);
        Assert.NotEqual(first.Metadata.Name, second.Metadata.Name);
        Assert.Single((await cluster.Client.CoreV1.ListNamespacedEventAsync("default")).Items);
    }

    [Fact]
    public async Task EventsAboutNamespacedCustomTypesUseTheirNamespaceAndEntityKind()
    {
        await using var cluster = await TestCluster.StartAsync();
        var recorder = new EventRecorder(cluster.Api, "trellis-operator");
        var widget = new Widget { ApiVersion = "", Kind = "", Metadata = new V1ObjectMeta { Name = "w", NamespaceProperty = "kube-system", Uid = "u-1" } };

        await recorder.NormalAsync(widget, "Made", "made it", CancellationToken.None);

        var stored = Assert.Single((await cluster.Client.CoreV1.ListNamespacedEventAsync("kube-system")).Items);
        Assert.Equal("Widget", stored.InvolvedObject.Kind);
        Assert.Equal($"{Widget.Group}/{Widget.Version}", stored.InvolvedObject.ApiVersion);
        Assert.Equal("kube-system", stored.InvolvedObject.NamespaceProperty);
    }

    [Fact]
    public async Task FailureIsReportedAsNullNotThrown()
    {
        await using var cluster = await TestCluster.StartAsync();
        var node = await cluster.CreateNodeAsync("node-a");
        var recorder = new EventRecorder(cluster.Api, "trellis-operator");
        var pod = new V1Pod { ApiVersion = "v1", Kind = "Pod", Metadata = new V1ObjectMeta { Name = "p", NamespaceProperty = "no-such-namespace" } };

        Assert.Null(await recorder.NormalAsync(pod, "Started", "started", CancellationToken.None));
        Assert.NotNull(await recorder.NormalAsync(node, "Started", "started", CancellationToken.None));
    }
}
