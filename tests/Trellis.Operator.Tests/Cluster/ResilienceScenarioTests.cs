using k8s;
using Trellis.Crds;
using Trellis.Operator.Hosting;
using Xunit;

namespace Trellis.Operator.Tests.Cluster;

public sealed class ResilienceScenarioTests
{
    private static OperatorOptions Elected() => new()
    {
        LeaderElect = true,
        LeaseDuration = TimeSpan.FromSeconds(3),
        RenewDeadline = TimeSpan.FromSeconds(2),
        RetryPeriod = TimeSpan.FromMilliseconds(250),
    };

    [Fact]
    public async Task Of_two_replicas_only_the_leader_writes_and_the_other_takes_over_when_it_stops()
    {
        await using var cluster = await OperatorCluster.StartAsync();
        await cluster.CreateNetworkAsync("default", ["10.244.0.0/16"]);
        for (int i = 1; i <= 3; i++) await cluster.CreateNodeAsync($"node-{i}", $"192.168.1.1{i}");
        var a = cluster.StartOperator(Elected(), "replica-a");
        var b = cluster.StartOperator(Elected(), "replica-b");

        var before = await cluster.BlocksEventuallyAsync("default", 3);
        await cluster.ConditionEventuallyAsync("default", Conditions.Ready, "True");
        var leader = await OperatorCluster.EventuallyAsync(() => Task.FromResult(new[] { a, b }.Where(r => r.Operator.State.Leading).ToList()),
            leaders => leaders.Count == 1, "exactly one leader");
        var (active, standby) = leader[0] == a ? (a, b) : (b, a);
        var lease = await cluster.Client.CoordinationV1.ReadNamespacedLeaseAsync("trellis-operator", OperatorCluster.LeaseNamespace);
        Assert.Equal(active.Identity, lease.Spec.HolderIdentity);
        Assert.True(active.Writes.Writes > 0);
        Assert.True(standby.Writes.Writes == 0, standby.Writes.Describe());
        Assert.True(standby.Operator.State.Ready);

        await cluster.StopAsync(active);
        await OperatorCluster.EventuallyAsync(() => Task.FromResult(standby.Operator.State.Synced), synced => synced, "the standby to lead");
        await cluster.CreateNodeAsync("node-4", "192.168.1.14");
        var after = await cluster.BlocksEventuallyAsync("default", 4);
        foreach (var (node, block) in before) Assert.Equal(block, after[node]);
        Assert.Equal(4, after.Values.Distinct().Count());
    }

    [Fact]
    public async Task Broken_watches_and_expired_history_do_not_lose_changes()
    {
        // No bookmarks during the test, so an informer's resourceVersion moves only with its own resource's events.
        await using var cluster = await OperatorCluster.StartAsync(bookmarkInterval: TimeSpan.FromMinutes(10));
        await cluster.CreateNetworkAsync("default", ["10.244.0.0/16"]);
        await cluster.CreateNodeAsync("node-1", "192.168.1.11");
        await cluster.CreateNodeAsync("node-2", "192.168.1.12");
        var replica = cluster.StartOperator();
        await cluster.BlocksEventuallyAsync("default", 2);

        cluster.Server.BreakWatches();
        await cluster.DeleteNodeAsync("node-1");
        await cluster.CreateNodeAsync("node-3", "192.168.1.13");
        await OperatorCluster.EventuallyAsync(() => cluster.BlocksAsync("default"),
            b => b.Count == 2 && b.ContainsKey("node-3") && !b.ContainsKey("node-1"), "node-1 gone and node-3 served after a dropped watch");

        // The operator's own NodeSubnet and status writes have moved the cluster's revision past the node
        // informer's; with history forgotten its resumed watch is too old (410 Gone) and it must list again.
        long listsBefore = cluster.Server.Metrics.Requests("list", "nodes");
        cluster.Server.CompactHistory();
        cluster.Server.BreakWatches();
        await cluster.DeleteNodeAsync("node-2");
        await cluster.CreateNodeAsync("node-4", "192.168.1.14");
        var blocks = await OperatorCluster.EventuallyAsync(() => cluster.BlocksAsync("default"),
            b => b.Count == 2 && b.ContainsKey("node-4") && !b.ContainsKey("node-2"), "node-2 gone and node-4 served after 410 Gone");
        Assert.Equal(2, blocks.Values.Distinct().Count());
        await OperatorCluster.EventuallyAsync(() => Task.FromResult(cluster.Server.Metrics.Requests("list", "nodes")),
            lists => lists > listsBefore, "the node informer to list again after 410 Gone");
        Assert.True(replica.Operator.State.Synced);
    }
}
