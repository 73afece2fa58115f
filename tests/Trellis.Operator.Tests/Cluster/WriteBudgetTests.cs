using k8s;
using k8s.Models;
using Trellis.Crds;
using Xunit;

namespace Trellis.Operator.Tests.Cluster;

/// <summary>The write bars, counted where they land: the API server's own count of successful writes.</summary>
public sealed class WriteBudgetTests
{
    private const int Nodes = 12;

    [Fact]
    public async Task Joining_nodes_cost_at_most_two_writes_each_and_changes_that_alter_no_NodeSubnet_cost_none()
    {
        await using var cluster = await OperatorCluster.StartAsync();
        await cluster.CreateNetworkAsync("default", ["10.244.0.0/16"]);
        cluster.StartOperator();
        await OperatorCluster.EventuallyAsync(() => cluster.GetNetworkAsync("default"),
            n => n.Status?.Nodes == 0 && n.Status.Conditions.Any(c => c.Type == Conditions.Ready && c.Status == "True"), "an empty network Ready");

        // A burst of joins: each node may cost its NodeSubnet and a share of the status writes, no more than 2 in all.
        cluster.Server.Metrics.Reset();
        await Task.WhenAll(Enumerable.Range(1, Nodes).Select(i => cluster.CreateNodeAsync($"node-{i}", $"192.168.1.{10 + i}")));
        long ours = Nodes;
        await cluster.BlocksEventuallyAsync("default", Nodes);
        await OperatorCluster.EventuallyAsync(() => cluster.GetNetworkAsync("default"), n => n.Status?.Nodes == Nodes, $"status.nodes {Nodes}");
        long operatorWrites = cluster.Server.Metrics.Writes - ours;
        Assert.True(operatorWrites >= Nodes + 1, $"{operatorWrites} operator writes cannot have made {Nodes} NodeSubnets and a status; {Describe(cluster)}");
        Assert.True(operatorWrites <= 2 * Nodes, $"{operatorWrites} operator writes for {Nodes} nodes; {Describe(cluster)}");

        // What kubelets and users do all day and what changes no NodeSubnet: heartbeats, a label no selector
        // reads, an annotation on the PodNetwork. Then one node joins, and everything before it has been seen
        // by the time its NodeSubnet and status appear; only those two writes may be the operator's.
        cluster.Server.Metrics.Reset();
        ours = 0;
        for (int i = 1; i <= 3; i++)
        {
            var node = await cluster.Client.CoreV1.ReadNodeAsync($"node-{i}");
            node.Status.Conditions = [new V1NodeCondition { Type = "Ready", Status = "True", Reason = "KubeletReady", LastHeartbeatTime = DateTime.UtcNow }];
            await cluster.Client.CoreV1.ReplaceNodeStatusAsync(node, node.Metadata.Name);
            ours++;
        }
        var labelled = await cluster.Client.CoreV1.ReadNodeAsync("node-4");
        // An empty labels map is omitted by the server (ObjectMeta's omitempty), so a node without labels reads as null.
        (labelled.Metadata.Labels ??= new Dictionary<string, string>())["team"] = "storage";
        await cluster.Client.CoreV1.ReplaceNodeAsync(labelled, labelled.Metadata.Name);
        ours++;
        var network = await cluster.GetNetworkAsync("default");
        network.Metadata.Annotations = new Dictionary<string, string> { ["owner"] = "platform" };
        await cluster.ReplaceNetworkAsync(network);
        ours++;
        await cluster.CreateNodeAsync("late", "192.168.1.99");
        ours++;
        await cluster.BlocksEventuallyAsync("default", Nodes + 1);
        await OperatorCluster.EventuallyAsync(() => cluster.GetNetworkAsync("default"), n => n.Status?.Nodes == Nodes + 1, $"status.nodes {Nodes + 1}");
        Assert.True(cluster.Server.Metrics.Writes - ours == 2, $"{cluster.Server.Metrics.Writes - ours} operator writes, expected 2 (late's NodeSubnet, the status); {Describe(cluster)}");
    }

    private static string Describe(OperatorCluster cluster) => string.Join(", ", cluster.Server.Metrics.Snapshot()
        .Where(p => p.Key.Verb is "create" or "update" or "patch" or "delete")
        .Select(p => $"{p.Key.Verb} {p.Key.Resource}: {p.Value}"));
}
