using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Trellis.Crds;
using Xunit;

namespace Trellis.Operator.Tests.Cluster;

/// <summary>
/// Issue 8's attacks on the operator, each against a real API server: ranges over the nodes' own addresses,
/// nodes that lose their address, networks being deleted, names that cannot make NodeSubnet names.
/// </summary>
public sealed class HostileInputScenarioTests
{
    private static Task<List<Corev1Event>> WarningsEventuallyAsync(OperatorCluster cluster, string network, string reason) =>
        OperatorCluster.EventuallyAsync(
            async () => (await cluster.Client.CoreV1.ListNamespacedEventAsync("default")).Items
                .Where(e => e.Reason == reason && e.InvolvedObject.Name == network && e.Type == "Warning").ToList(),
            events => events.Count > 0, $"a {reason} Warning about PodNetwork {network}");

    [Fact]
    public async Task A_range_holding_node_addresses_is_refused_and_a_node_moving_into_a_range_is_not_served()
    {
        await using var cluster = await OperatorCluster.StartAsync();
        await cluster.CreateNodeAsync("n1", "192.168.1.11");
        await cluster.CreateNodeAsync("n2", "192.168.1.12");
        var replica = cluster.StartOperator();

        await cluster.CreateNetworkAsync("underlay", ["192.168.0.0/16"]);
        var refused = await cluster.ConditionEventuallyAsync("underlay", Conditions.Valid, "False", "OverlapsNodeAddresses");
        Assert.Contains("192.168.1.11 of node n1", refused.Status!.Conditions.Single(c => c.Type == Conditions.Valid).Message);
        Assert.Equal("False", refused.Status.Conditions.Single(c => c.Type == Conditions.Ready).Status);
        await WarningsEventuallyAsync(cluster, "underlay", "OverlapsNodeAddresses");
        Assert.Empty(await cluster.SubnetsAsync("underlay"));
        Assert.Equal(0, refused.Status.BlocksAllocated);

        await cluster.CreateNetworkAsync("pods", ["10.244.0.0/16"]);
        Assert.Equal(["10.244.0.0/24", "10.244.1.0/24"], (await cluster.BlocksEventuallyAsync("pods", 2)).Values.Order());
        await cluster.ConditionEventuallyAsync("pods", Conditions.Valid, "True");
        // A node arrives with an address inside the next free block: it is not served, and nobody gets that block.
        await cluster.CreateNodeAsync("intruder", "10.244.2.9");
        var notServed = await cluster.ConditionEventuallyAsync("pods", Conditions.Ready, "False", "NodesNotServed");
        Assert.Contains("node intruder is not served: its address 10.244.2.9", notServed.Status!.Conditions.Single(c => c.Type == Conditions.Ready).Message);
        Assert.Equal("True", notServed.Status.Conditions.Single(c => c.Type == Conditions.Valid).Status);
        await WarningsEventuallyAsync(cluster, "pods", "NodesNotServed");
        await cluster.CreateNodeAsync("n3", "192.168.1.13");
        var blocks = await cluster.BlocksEventuallyAsync("pods", 3);
        Assert.Equal("10.244.3.0/24", blocks["n3"]);
        Assert.DoesNotContain("intruder", blocks.Keys);
        Assert.False(replica.Running.IsCompleted, "the operator stopped");
    }

    [Fact]
    public async Task A_node_that_loses_its_address_keeps_its_block_and_its_NodeSubnet_marked_unroutable()
    {
        await using var cluster = await OperatorCluster.StartAsync();
        await cluster.CreateNetworkAsync("default", ["10.244.0.0/16"]);
        await cluster.CreateNodeAsync("n1", "192.168.1.11");
        await cluster.CreateNodeAsync("n2", "192.168.1.12");
        cluster.StartOperator();
        var before = await cluster.BlocksEventuallyAsync("default", 2);

        var node = await cluster.Client.CoreV1.ReadNodeAsync("n1");
        node.Status.Addresses = [new V1NodeAddress { Address = "n1", Type = "Hostname" }];
        await cluster.Client.CoreV1.ReplaceNodeStatusAsync(node, "n1");
        var bare = await OperatorCluster.EventuallyAsync(async () => (await cluster.SubnetsAsync("default")).SingleOrDefault(s => s.Spec.NodeName == "n1"),
            s => s is not null && s.Spec.NodeAddresses.Count == 0, "n1's NodeSubnet to stay, with no node address");
        Assert.Equal(before["n1"], bare!.Spec.Cidrs.Single());

        // The next node to join gets a block of its own, not the one n1 still holds.
        await cluster.CreateNodeAsync("n3", "192.168.1.13");
        var during = await cluster.BlocksEventuallyAsync("default", 3);
        Assert.Equal(3, during.Values.Distinct().Count());
        Assert.Equal(before["n1"], during["n1"]);

        node = await cluster.Client.CoreV1.ReadNodeAsync("n1");
        node.Status.Addresses = [new V1NodeAddress { Address = "192.168.1.21", Type = "InternalIP" }];
        await cluster.Client.CoreV1.ReplaceNodeStatusAsync(node, "n1");
        var back = await OperatorCluster.EventuallyAsync(async () => (await cluster.SubnetsAsync("default")).Single(s => s.Spec.NodeName == "n1"),
            s => s.Spec.NodeAddresses.SequenceEqual(["192.168.1.21"]), "n1's NodeSubnet to carry its address again");
        Assert.Equal(before["n1"], back.Spec.Cidrs.Single());
        Assert.Equal(during, await cluster.BlocksAsync("default"));
    }

    [Fact]
    public async Task A_network_being_deleted_is_not_served_and_its_NodeSubnets_are_not_made_again()
    {
        await using var cluster = await OperatorCluster.StartAsync();
        await cluster.CreateNodeAsync("n1", "192.168.1.11");
        await cluster.CreateNodeAsync("n2", "192.168.1.12");
        // A finalizer of someone else's holds the network in deletion, as foreground propagation does while dependents remain.
        await cluster.Networks.CreateAsync(new PodNetwork
        {
            Metadata = new V1ObjectMeta { Name = "doomed", Finalizers = ["example.com/hold"] },
            Spec = new PodNetworkSpec { Cidrs = ["10.244.0.0/16"] },
        });
        cluster.StartOperator();
        await cluster.BlocksEventuallyAsync("doomed", 2);

        await cluster.Networks.DeleteAsync("doomed", new V1DeleteOptions { PropagationPolicy = "Foreground" });
        Assert.NotNull((await cluster.GetNetworkAsync("doomed")).Metadata.DeletionTimestamp);
        await cluster.BlocksEventuallyAsync("doomed", 0);
        // Reconciles keep coming (a node joins, the resync of a restarted term); none may bring the NodeSubnets back.
        await cluster.CreateNodeAsync("n3", "192.168.1.13");
        for (int i = 0; i < 20; i++)
        {
            Assert.Empty(await cluster.SubnetsAsync("doomed"));
            await Task.Delay(100);
        }

        await cluster.UpdateNetworkAsync("doomed", network => network.Metadata.Finalizers = []);
        await OperatorCluster.EventuallyAsync(async () => (await cluster.Networks.ListAsync()).Count, count => count == 0, "the network to be gone");
        // Its blocks went back: a new network over the same range starts from the lowest block again.
        await cluster.CreateNetworkAsync("reborn", ["10.244.0.0/16"]);
        Assert.Contains("10.244.0.0/24", (await cluster.BlocksEventuallyAsync("reborn", 3)).Values);
    }

    [Fact]
    public async Task A_network_whose_name_cannot_make_unambiguous_NodeSubnet_names_is_refused()
    {
        await using var cluster = await OperatorCluster.StartAsync();
        await cluster.CreateNodeAsync("b.c", "192.168.1.11");
        cluster.StartOperator();
        try
        {
            await cluster.CreateNetworkAsync("a.b", ["10.244.0.0/16"]);
        }
        catch (HttpOperationException refused) when (refused.Response.StatusCode == HttpStatusCode.UnprocessableEntity)
        {
            // An API server that evaluates the CRD's CEL rules refuses it before the operator sees it.
            Assert.Contains("DNS label", refused.Response.Content);
            return;
        }
        var network = await cluster.ConditionEventuallyAsync("a.b", Conditions.Valid, "False", "InvalidSpec");
        Assert.Contains("DNS label", network.Status!.Conditions.Single(c => c.Type == Conditions.Valid).Message);
        await Task.Delay(500);
        Assert.Empty(await cluster.SubnetsAsync());
    }
}
