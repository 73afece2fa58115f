using Trellis.Addressing;
using k8s;
using k8s.Models;
using Trellis.Crds;
using Trellis.Operator.Hosting;
using Trellis.Operator.Planning;
using Trellis.Operator.Facts;
using Trellis.Operator.Validation;
using Xunit;

namespace Trellis.Operator.Tests.Cluster;

public sealed class AllocationScenarioTests
{
    [Fact]
    public async Task Nodes_get_distinct_blocks_a_fourth_joins_and_a_deleted_nodes_block_is_reused()
    {
        await using var cluster = await OperatorCluster.StartAsync();
        await cluster.CreateNetworkAsync("default", ["10.244.0.0/16"]);
        for (int i = 1; i <= 3; i++) await cluster.CreateNodeAsync($"node-{i}", $"192.168.1.1{i}");
        cluster.StartOperator();

        var blocks = await cluster.BlocksEventuallyAsync("default", 3);
        Assert.Equal(["10.244.0.0/24", "10.244.1.0/24", "10.244.2.0/24"], blocks.Values.Order());
        var first = (await cluster.SubnetsAsync("default")).Single(s => s.Spec.NodeName == "node-1");
        Assert.Equal("default.node-1", first.Metadata.Name);
        Assert.Equal(["192.168.1.11"], first.Spec.NodeAddresses);
        Assert.Equal([first.Spec.Cidrs[0].Replace(".0/24", ".1")], first.Spec.Gateways);
        Assert.Equal(["10.244.0.0/16"], first.Spec.NetworkCidrs);
        Assert.Equal("default", first.Metadata.OwnerReferences.Single(o => o.Controller == true).Name);

        var network = await cluster.ConditionEventuallyAsync("default", Conditions.Ready, "True");
        network = await OperatorCluster.EventuallyAsync(() => cluster.GetNetworkAsync("default"), n => n.Status?.Nodes == 3, "status.nodes 3");
        Assert.Equal(3, network.Status!.BlocksAllocated);
        Assert.Equal(256, network.Status.BlocksTotal);
        Assert.Equal(network.Metadata.Generation, network.Status.ObservedGeneration);
        Assert.Equal("True", network.Status.Conditions.Single(c => c.Type == Conditions.Valid).Status);
        // Node.spec.podCIDRs is written only when asked for; the status above comes after any such write.
        Assert.All(await Task.WhenAll(blocks.Keys.Select(n => cluster.Client.CoreV1.ReadNodeAsync(n))),
            node => Assert.True(node.Spec?.PodCIDRs is null or { Count: 0 } && string.IsNullOrEmpty(node.Spec?.PodCIDR), $"{node.Metadata.Name} has podCIDRs"));

        await cluster.CreateNodeAsync("node-4", "192.168.1.14");
        blocks = await cluster.BlocksEventuallyAsync("default", 4);
        Assert.Equal("10.244.3.0/24", blocks["node-4"]);

        var deletedBlock = blocks["node-2"];
        await cluster.DeleteNodeAsync("node-2");
        blocks = await cluster.BlocksEventuallyAsync("default", 3);
        Assert.DoesNotContain("node-2", blocks.Keys);
        await cluster.CreateNodeAsync("node-5", "192.168.1.15");
        blocks = await cluster.BlocksEventuallyAsync("default", 4);
        Assert.Equal(deletedBlock, blocks["node-5"]);
        Assert.Equal(4, blocks.Values.Distinct().Count());
    }

    [Fact]
    public async Task A_restarted_operator_moves_nothing_and_writes_nothing_for_what_is_already_right()
    {
        await using var cluster = await OperatorCluster.StartAsync();
        await cluster.CreateNetworkAsync("default", ["10.244.0.0/16"]);
        // A NodeSubnet from an earlier life holds a block that is not the lowest; it must be honoured.
        await cluster.CreateNodeAsync("old", "192.168.1.10");
        await cluster.Subnets.CreateAsync(
            TestObjects.Plan(await cluster.GetNetworkAsync("default"), await cluster.Client.CoreV1.ReadNodeAsync("old"),
                [Cidr.Parse("10.244.7.0/24")])!);
        for (int i = 1; i <= 3; i++) await cluster.CreateNodeAsync($"node-{i}", $"192.168.1.1{i}");

        var first = cluster.StartOperator();
        var before = await cluster.BlocksEventuallyAsync("default", 4);
        Assert.Equal("10.244.7.0/24", before["old"]);
        await cluster.ConditionEventuallyAsync("default", Conditions.Ready, "True");
        await OperatorCluster.EventuallyAsync(() => cluster.GetNetworkAsync("default"), n => n.Status?.Nodes == 4, "status.nodes 4");
        var versions = (await cluster.SubnetsAsync()).ToDictionary(s => s.Metadata.Name, s => s.Metadata.ResourceVersion);
        await cluster.StopAsync(first);

        var second = cluster.StartOperator(identity: "operator-1");
        await OperatorCluster.EventuallyAsync(() => Task.FromResult(second.Operator.State.Synced), synced => synced, "second operator synced");
        await cluster.CreateNodeAsync("node-4", "192.168.1.14");
        var after = await cluster.BlocksEventuallyAsync("default", 5);

        foreach (var (node, block) in before) Assert.Equal(block, after[node]);
        Assert.Equal("10.244.3.0/24", after["node-4"]);
        await OperatorCluster.EventuallyAsync(() => cluster.GetNetworkAsync("default"), n => n.Status?.Nodes == 5, "status.nodes 5");
        var unchanged = (await cluster.SubnetsAsync()).Where(s => versions.ContainsKey(s.Metadata.Name));
        Assert.All(unchanged, s => Assert.Equal(versions[s.Metadata.Name], s.Metadata.ResourceVersion));
        // One create for the new node and one status write: nothing for the four that were already right.
        Assert.True(second.Writes.Writes == 2, second.Writes.Describe());
    }

    [Fact]
    public async Task Two_networks_with_node_selectors_serve_their_own_nodes_and_a_relabelled_node_moves()
    {
        await using var cluster = await OperatorCluster.StartAsync();
        await cluster.CreateNetworkAsync("gpu", ["10.10.0.0/16"], new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["pool"] = "gpu" } });
        await cluster.CreateNetworkAsync("general", ["10.20.0.0/16"], new V1LabelSelector
        {
            MatchExpressions = [new V1LabelSelectorRequirement { Key = "pool", OperatorProperty = "NotIn", Values = ["gpu"] }],
        });
        await cluster.CreateNodeAsync("g1", "192.168.1.11", new() { ["pool"] = "gpu" });
        await cluster.CreateNodeAsync("g2", "192.168.1.12", new() { ["pool"] = "gpu" });
        await cluster.CreateNodeAsync("c1", "192.168.1.13", new() { ["pool"] = "cpu" });
        await cluster.CreateNodeAsync("plain", "192.168.1.14");
        cluster.StartOperator();

        var gpu = await cluster.BlocksEventuallyAsync("gpu", 2);
        var general = await cluster.BlocksEventuallyAsync("general", 2);
        Assert.Equal(["g1", "g2"], gpu.Keys.Order());
        Assert.Equal(["c1", "plain"], general.Keys.Order());
        Assert.All(gpu.Values, b => Assert.StartsWith("10.10.", b));
        Assert.All(general.Values, b => Assert.StartsWith("10.20.", b));

        var node = await cluster.Client.CoreV1.ReadNodeAsync("c1");
        node.Metadata.Labels["pool"] = "gpu";
        await cluster.Client.CoreV1.ReplaceNodeAsync(node, "c1");
        gpu = await cluster.BlocksEventuallyAsync("gpu", 3);
        general = await cluster.BlocksEventuallyAsync("general", 1);
        Assert.Contains("c1", gpu.Keys);
        Assert.Equal(["plain"], general.Keys);
    }

    [Fact]
    public async Task An_overlapping_network_is_refused_and_gets_nothing()
    {
        await using var cluster = await OperatorCluster.StartAsync();
        await cluster.CreateNetworkAsync("first", ["10.244.0.0/16"]);
        await cluster.CreateNodeAsync("n1", "192.168.1.11");
        cluster.StartOperator();
        await cluster.BlocksEventuallyAsync("first", 1);

        await cluster.CreateNetworkAsync("second", ["10.244.128.0/17"]);
        var second = await cluster.ConditionEventuallyAsync("second", Conditions.Valid, "False", ValidationReasons.Overlap);
        var valid = second.Status!.Conditions.Single(c => c.Type == Conditions.Valid);
        Assert.Contains("10.244.128.0/17", valid.Message);
        Assert.Contains("first", valid.Message);
        Assert.Equal("False", second.Status.Conditions.Single(c => c.Type == Conditions.Ready).Status);
        await cluster.CreateNodeAsync("n2", "192.168.1.12");
        await cluster.BlocksEventuallyAsync("first", 2);
        Assert.Empty(await cluster.SubnetsAsync("second"));
        Assert.Equal(0, (await cluster.GetNetworkAsync("second")).Status!.BlocksAllocated);
        var firstNetwork = await cluster.ConditionEventuallyAsync("first", Conditions.Valid, "True");
        Assert.Equal("True", firstNetwork.Status!.Conditions.Single(c => c.Type == Conditions.Ready).Status);

        // With the older network gone, its NodeSubnets go too and the newer one becomes valid and serves the nodes.
        await cluster.Networks.DeleteAsync("first");
        await cluster.BlocksEventuallyAsync("first", 0);
        await cluster.ConditionEventuallyAsync("second", Conditions.Valid, "True");
        var blocks = await cluster.BlocksEventuallyAsync("second", 2);
        Assert.Equal(["10.244.128.0/24", "10.244.129.0/24"], blocks.Values.Order());
    }

    [Fact]
    public async Task An_exhausted_pool_is_reported_once_and_an_appended_range_serves_the_waiting_node()
    {
        await using var cluster = await OperatorCluster.StartAsync();
        await cluster.CreateNetworkAsync("small", ["10.0.0.0/23"]);
        for (int i = 1; i <= 3; i++) await cluster.CreateNodeAsync($"node-{i}", $"192.168.1.1{i}");
        cluster.StartOperator();

        await cluster.BlocksEventuallyAsync("small", 2);
        var network = await cluster.ConditionEventuallyAsync("small", Conditions.Ready, "False", Conditions.ReasonPoolExhausted);
        Assert.Contains("node-3", network.Status!.Conditions.Single(c => c.Type == Conditions.Ready).Message);
        var warnings = await OperatorCluster.EventuallyAsync(
            async () => (await cluster.Client.CoreV1.ListNamespacedEventAsync("default")).Items
                .Where(e => e.Reason == Conditions.ReasonPoolExhausted && e.InvolvedObject.Name == "small").ToList(),
            events => events.Count > 0, "a PoolExhausted event");
        Assert.Equal("Warning", Assert.Single(warnings).Type);
        Assert.Equal(2, (await cluster.BlocksAsync("small")).Values.Distinct().Count());

        await cluster.UpdateNetworkAsync("small", small => small.Spec.Cidrs.Add("10.0.4.0/24"));
        var blocks = await cluster.BlocksEventuallyAsync("small", 3);
        Assert.Equal("10.0.4.0/24", blocks["node-3"]);
        network = await cluster.ConditionEventuallyAsync("small", Conditions.Ready, "True");
        Assert.Equal(3, network.Status!.BlocksTotal);
    }

    [Fact]
    public async Task A_node_whose_address_changes_keeps_its_block()
    {
        await using var cluster = await OperatorCluster.StartAsync();
        await cluster.CreateNetworkAsync("default", ["10.244.0.0/16"]);
        await cluster.CreateNodeAsync("n1", "192.168.1.11");
        await cluster.CreateNodeAsync("n2", "192.168.1.12");
        cluster.StartOperator();
        var before = await cluster.BlocksEventuallyAsync("default", 2);

        var node = await cluster.Client.CoreV1.ReadNodeAsync("n1");
        node.Status.Addresses = [new V1NodeAddress { Address = "192.168.2.11", Type = "InternalIP" }];
        await cluster.Client.CoreV1.ReplaceNodeStatusAsync(node, "n1");

        var subnet = await OperatorCluster.EventuallyAsync(async () => (await cluster.SubnetsAsync("default")).Single(s => s.Spec.NodeName == "n1"),
            s => s.Spec.NodeAddresses.SequenceEqual(["192.168.2.11"]), "n1's NodeSubnet to carry its new address");
        Assert.Equal(before["n1"], subnet.Spec.Cidrs.Single());
        Assert.Equal(before, await cluster.BlocksAsync("default"));
    }

    [Fact]
    public async Task A_dual_stack_network_gives_each_node_one_block_per_family()
    {
        await using var cluster = await OperatorCluster.StartAsync();
        await cluster.CreateNetworkAsync("dual", ["10.244.0.0/16", "fd00:10:244::/64"]);
        await cluster.CreateNodeAsync("n1", ["192.168.1.11", "fd00:1::11"]);
        await cluster.CreateNodeAsync("n2", ["192.168.1.12", "fd00:1::12"]);
        cluster.StartOperator();

        await cluster.BlocksEventuallyAsync("dual", 2);
        var subnets = await cluster.SubnetsAsync("dual");
        var n1 = subnets.Single(s => s.Spec.NodeName == "n1");
        var n2 = subnets.Single(s => s.Spec.NodeName == "n2");
        Assert.Equal(["10.244.0.0/24", "fd00:10:244::/80"], n1.Spec.Cidrs);
        Assert.Equal(["10.244.0.1", "fd00:10:244::1"], n1.Spec.Gateways);
        Assert.Equal(["192.168.1.11", "fd00:1::11"], n1.Spec.NodeAddresses);
        Assert.Equal(["10.244.1.0/24", "fd00:10:244:0:1::/80"], n2.Spec.Cidrs);
        var network = await OperatorCluster.EventuallyAsync(() => cluster.GetNetworkAsync("dual"), n => n.Status?.BlocksAllocated == 4, "4 blocks allocated");
        Assert.Equal(256 + 65536, network.Status!.BlocksTotal);
    }

    [Fact]
    public async Task Node_pod_cidrs_are_set_only_when_asked_and_only_when_empty()
    {
        await using var cluster = await OperatorCluster.StartAsync();
        await cluster.CreateNetworkAsync("default", ["10.244.0.0/16"]);
        await cluster.CreateNodeAsync("n1", "192.168.1.11");
        var preset = await cluster.CreateNodeAsync("n2", "192.168.1.12");
        preset.Spec = new V1NodeSpec { PodCIDR = "10.99.0.0/24", PodCIDRs = ["10.99.0.0/24"] };
        await cluster.Client.CoreV1.ReplaceNodeAsync(preset, "n2");
        cluster.StartOperator(new OperatorOptions { LeaderElect = false, SetNodePodCidrs = true });

        var blocks = await cluster.BlocksEventuallyAsync("default", 2);
        var n1 = await OperatorCluster.EventuallyAsync(() => cluster.Client.CoreV1.ReadNodeAsync("n1"), n => n.Spec?.PodCIDRs?.Count > 0, "n1 podCIDRs");
        Assert.Equal([blocks["n1"]], n1.Spec.PodCIDRs);
        Assert.Equal(["10.99.0.0/24"], (await cluster.Client.CoreV1.ReadNodeAsync("n2")).Spec.PodCIDRs);
    }
}
