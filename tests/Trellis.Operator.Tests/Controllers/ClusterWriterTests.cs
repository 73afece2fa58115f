using Trellis.Addressing;
using k8s;
using Trellis.Crds;
using Trellis.Operator.Controllers;
using Trellis.Operator.Planning;
using Trellis.Operator.Facts;
using Trellis.Operator.Tests.Cluster;
using Xunit;
using Trellis.ControllerRuntime.Clients;

namespace Trellis.Operator.Tests.Controllers;

/// <summary>Writes from a stale copy meet a real 409 from the API server and are redone from a fresh read, keeping the other writer's change.</summary>
public sealed class ClusterWriterTests
{
    [Fact]
    public async Task A_status_written_from_a_stale_copy_is_retried_after_409_and_keeps_the_other_writers_change()
    {
        await using var cluster = await OperatorCluster.StartAsync();
        var stale = await cluster.CreateNetworkAsync("default", ["10.244.0.0/16"]);
        var fresh = await cluster.GetNetworkAsync("default");
        fresh.Metadata.Annotations = new Dictionary<string, string> { ["owner"] = "platform" };
        await cluster.ReplaceNetworkAsync(fresh);

        long updates = cluster.Server.Metrics.Requests("update", PodNetwork.Plural), writes = cluster.Server.Metrics.Writes;
        var stored = await new ClusterWriter(ApiClient.Over(cluster.Client)).WriteStatusAsync(stale,
            current => current.Status?.Nodes == 7 ? null : new PodNetworkStatus { Nodes = 7, ObservedGeneration = current.Metadata.Generation },
            CancellationToken.None);

        Assert.Equal(2, cluster.Server.Metrics.Requests("update", PodNetwork.Plural) - updates);
        Assert.Equal(1, cluster.Server.Metrics.Writes - writes);
        var read = await cluster.GetNetworkAsync("default");
        Assert.Equal(7, read.Status!.Nodes);
        Assert.Equal("platform", read.Metadata.Annotations["owner"]);
        Assert.Equal(read.Metadata.ResourceVersion, stored.Metadata.ResourceVersion);
    }

    [Fact]
    public async Task A_NodeSubnet_updated_from_a_stale_copy_is_retried_after_409_and_keeps_foreign_labels()
    {
        await using var cluster = await OperatorCluster.StartAsync();
        var network = await cluster.CreateNetworkAsync("default", ["10.244.0.0/16"]);
        var node = await cluster.CreateNodeAsync("n1", "192.168.1.11");
        var block = Cidr.Parse("10.244.3.0/24");
        var writer = new ClusterWriter(ApiClient.Over(cluster.Client));
        var stale = await writer.CreateAsync(TestObjects.Plan(network, node, [block])!, CancellationToken.None);

        var fresh = (await cluster.SubnetsAsync("default")).Single();
        fresh.Metadata.Labels["team"] = "storage";
        await cluster.Subnets.ReplaceAsync(fresh);

        node.Status.Addresses = [new k8s.Models.V1NodeAddress { Type = "InternalIP", Address = "192.168.2.11" }];
        long updates = cluster.Server.Metrics.Requests("update", NodeSubnet.Plural), writes = cluster.Server.Metrics.Writes;
        await writer.UpdateAsync(stale, TestObjects.Plan(network, node, [block])!, CancellationToken.None);

        Assert.Equal(2, cluster.Server.Metrics.Requests("update", NodeSubnet.Plural) - updates);
        Assert.Equal(1, cluster.Server.Metrics.Writes - writes);
        var read = (await cluster.SubnetsAsync("default")).Single();
        Assert.Equal(["192.168.2.11"], read.Spec.NodeAddresses);
        Assert.Equal(["10.244.3.0/24"], read.Spec.Cidrs);
        Assert.Equal("storage", read.Metadata.Labels["team"]);
    }
}
