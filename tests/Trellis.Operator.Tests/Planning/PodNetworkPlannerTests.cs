using k8s.Models;
using Trellis.Addressing;
using Trellis.Crds;
using Trellis.Operator.Allocation;
using Trellis.Operator.Facts;
using Trellis.Operator.Planning;
using Trellis.Operator.Validation;
using Xunit;

namespace Trellis.Operator.Tests.Planning;

/// <summary>The operator's decisions, made without an API server: facts and a ledger in, a plan out.</summary>
public sealed class PodNetworkPlannerTests
{
    private readonly BlockAllocator _ledger = new();

    private static PodNetwork Network(string name = "pods", params string[] cidrs)
    {
        var network = TestObjects.Network(name, cidrs.Length == 0 ? ["10.244.0.0/16"] : cidrs);
        network.Metadata.Generation = 1;
        network.Metadata.CreationTimestamp = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        return network;
    }

    private static V1Node Node(string name, int minute, params string[] addresses)
    {
        var node = TestObjects.Node(name, addresses);
        node.Metadata.CreationTimestamp = new DateTime(2026, 1, 1, 0, minute, 0, DateTimeKind.Utc);
        return node;
    }

    private PodNetworkPlan Plan(PodNetwork network, IReadOnlyList<V1Node> nodes, IReadOnlyList<NodeSubnet>? subnets = null, params PodNetwork[] others)
    {
        var facts = PodNetworkFacts.Parse(network);
        var cluster = new ClusterFacts(others.Append(network).Select(PodNetworkFacts.Parse).ToList(), nodes.Select(NodeFacts.Parse).ToList(), subnets ?? []);
        return PodNetworkPlanner.Plan(facts, cluster, subnets ?? [], _ledger);
    }

    /// <summary>What the cluster would hold after the plan is applied (writes succeeding).</summary>
    private static List<NodeSubnet> Applied(IReadOnlyList<NodeSubnet> before, PodNetworkPlan plan)
    {
        var after = before.Where(s => plan.Delete.All(d => d.Subnet.Metadata.Name != s.Metadata.Name)).ToDictionary(s => s.Metadata.Name);
        foreach (var created in plan.Create) after[created.Metadata.Name] = created;
        foreach (var updated in plan.Update) after[updated.Desired.Metadata.Name] = updated.Desired;
        return after.Values.OrderBy(s => s.Metadata.Name).ToList();
    }

    [Fact]
    public void Nodes_get_the_lowest_blocks_in_age_order_and_a_second_plan_changes_nothing()
    {
        var network = Network();
        V1Node[] nodes = [Node("young", 5, "192.168.1.12"), Node("old", 1, "192.168.1.11")];
        var first = Plan(network, nodes);

        Assert.Equal(["pods.old", "pods.young"], first.Create.Select(s => s.Metadata.Name).Order());
        Assert.Equal(["10.244.0.0/24"], first.Create.Single(s => s.Spec.NodeName == "old").Spec.Cidrs);
        Assert.Equal([new BlockChange("old", Cidr.Parse("10.244.0.0/24")), new BlockChange("young", Cidr.Parse("10.244.1.0/24"))], first.Taken);
        Assert.Equal((2L, 256L, 2), (first.Status!.BlocksAllocated, first.Status.BlocksTotal, first.Status.Nodes));
        Assert.True(first.Status.Verdict.Valid);

        var second = Plan(network, nodes, Applied([], first));
        Assert.Empty(second.Create);
        Assert.Empty(second.Update);
        Assert.Empty(second.Delete);
        Assert.Empty(second.Taken);
    }

    [Fact]
    public void A_node_that_loses_its_address_keeps_its_block_and_its_NodeSubnet_marked_unroutable()
    {
        var network = Network();
        var subnets = Applied([], Plan(network, [Node("n1", 1, "192.168.1.11"), Node("n2", 2, "192.168.1.12")]));

        var bare = Plan(network, [Node("n1", 1), Node("n2", 2, "192.168.1.12"), Node("n3", 3, "192.168.1.13")], subnets);

        Assert.Empty(bare.Delete);
        Assert.Empty(bare.Released);
        var update = Assert.Single(bare.Update);
        Assert.Equal("pods.n1", update.Desired.Metadata.Name);
        Assert.Equal(["10.244.0.0/24"], update.Desired.Spec.Cidrs);
        Assert.Empty(update.Desired.Spec.NodeAddresses);
        Assert.Equal(["10.244.2.0/24"], Assert.Single(bare.Create).Spec.Cidrs);
        Assert.Empty(bare.Status!.Unserved);

        var back = Plan(network, [Node("n1", 1, "192.168.1.21"), Node("n2", 2, "192.168.1.12"), Node("n3", 3, "192.168.1.13")], Applied(subnets, bare));
        Assert.Equal(["192.168.1.21"], Assert.Single(back.Update).Desired.Spec.NodeAddresses);
        Assert.Equal(["10.244.0.0/24"], back.Update[0].Desired.Spec.Cidrs);
    }

    [Fact]
    public void A_node_that_never_had_an_address_waits_without_a_block()
    {
        var plan = Plan(Network(), [Node("bare", 1)]);
        Assert.Empty(plan.Create);
        Assert.Empty(plan.Taken);
        Assert.True(plan.Status!.Unserved.Count == 0 && plan.Status.Exhausted.Count == 0);
    }

    [Fact]
    public void A_deselected_node_loses_its_NodeSubnet_first_and_its_block_once_that_is_gone()
    {
        var network = Network();
        var subnets = Applied([], Plan(network, [Node("n1", 1, "192.168.1.11")]));
        network.Spec.NodeSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["pool"] = "gpu" } };

        var deselected = Plan(network, [Node("n1", 1, "192.168.1.11")], subnets);
        Assert.Equal("is no longer selected", Assert.Single(deselected.Delete).Why);
        Assert.Empty(deselected.Released);

        var gone = Plan(network, [Node("n1", 1, "192.168.1.11")], Applied(subnets, deselected));
        Assert.Equal([new BlockChange("n1", Cidr.Parse("10.244.0.0/24"))], gone.Released);
    }

    [Fact]
    public void A_network_over_a_nodes_address_is_invalid_and_hands_out_nothing()
    {
        var plan = Plan(Network("underlay", "192.168.0.0/16"), [Node("n1", 1, "192.168.1.11")]);
        Assert.False(plan.Status!.Verdict.Valid);
        Assert.Equal(ValidationReasons.OverlapsNodeAddresses, plan.Status.Verdict.Reason);
        Assert.Empty(plan.Create);
        Assert.Empty(plan.Taken);
    }

    [Fact]
    public void A_node_whose_address_later_falls_inside_an_accepted_range_is_not_served_and_its_block_is_passed_over()
    {
        var network = Network();
        network.Status = new PodNetworkStatus { Conditions = [new V1Condition { Type = Conditions.Valid, Status = "True", ObservedGeneration = 1 }] };
        // The intruder's address lies in the lowest block: nobody may have that block while the address is there.
        var plan = Plan(network, [Node("intruder", 1, "10.244.0.7"), Node("n1", 2, "192.168.1.11")]);

        Assert.True(plan.Status!.Verdict.Valid);
        var created = Assert.Single(plan.Create);
        Assert.Equal("n1", created.Spec.NodeName);
        Assert.Equal(["10.244.1.0/24"], created.Spec.Cidrs);
        Assert.Contains("node intruder is not served: its address 10.244.0.7 lies inside the range 10.244.0.0/16", Assert.Single(plan.Status.Unserved));
        var status = PodNetworkStatusPlanner.Plan(network, plan.Status, DateTime.UtcNow);
        Assert.Equal(Conditions.ReasonNodesNotServed, PodNetworkStatusPlanner.Find(status, Conditions.Ready)!.Reason);

        // The address moves away: the block it held back is free again, lowest first.
        var later = Plan(network, [Node("intruder", 1, "192.168.1.10"), Node("n1", 2, "192.168.1.11")], Applied([], plan));
        Assert.Equal(["10.244.0.0/24"], Assert.Single(later.Create).Spec.Cidrs);
    }

    [Fact]
    public void A_node_whose_NodeSubnet_name_would_be_too_long_is_not_served()
    {
        var longName = string.Join('.', Enumerable.Repeat(new string('n', 62), 4));
        var plan = Plan(Network(), [Node(longName, 1, "192.168.1.11")]);
        Assert.Empty(plan.Create);
        Assert.Contains("longer than 253 characters", Assert.Single(plan.Status!.Unserved));
    }

    [Fact]
    public void A_network_with_a_dotted_name_is_invalid_and_serves_no_node()
    {
        var plan = Plan(Network("a.b"), [Node("n1", 1, "192.168.1.11")]);
        Assert.False(plan.Status!.Verdict.Valid);
        Assert.Contains("DNS label", plan.Status.Verdict.Message);
        Assert.Empty(plan.Create);
    }

    [Fact]
    public void A_network_being_deleted_serves_nobody_deletes_its_NodeSubnets_and_releases_blocks_once_they_are_gone()
    {
        var network = Network();
        V1Node[] nodes = [Node("n1", 1, "192.168.1.11"), Node("n2", 2, "192.168.1.12")];
        var subnets = Applied([], Plan(network, nodes));
        network.Metadata.DeletionTimestamp = DateTime.UtcNow;

        var terminating = Plan(network, nodes.Append(Node("n3", 3, "192.168.1.13")).ToList(), subnets);
        Assert.Equal(2, terminating.Delete.Count);
        Assert.Empty(terminating.Create);
        Assert.Empty(terminating.Update);
        Assert.Empty(terminating.Taken);
        Assert.Null(terminating.Status);

        var after = Plan(network, nodes, Applied(subnets, terminating));
        Assert.Empty(after.Delete);
        Assert.Empty(after.Create);
        Assert.Equal(2, after.Released.Count);
        Assert.Equal(0, _ledger.Allocated("pods"));
    }

    [Fact]
    public void A_stale_or_misnamed_NodeSubnet_is_deleted_and_a_gone_network_deletes_all()
    {
        var network = Network();
        var subnets = Applied([], Plan(network, [Node("n1", 1, "192.168.1.11")]));
        var misnamed = TestObjects.Plan(network, TestObjects.Node("n1", "192.168.1.11"), [Cidr.Parse("10.244.0.0/24")])!;
        misnamed.Metadata.Name = "pods-n1";

        var plan = Plan(network, [Node("n1", 1, "192.168.1.11")], subnets.Append(misnamed).ToList());
        Assert.Equal("pods-n1", Assert.Single(plan.Delete).Subnet.Metadata.Name);

        var removal = PodNetworkPlanner.PlanRemoval("pods", subnets);
        Assert.Equal(["pods.n1"], removal.Delete.Select(d => d.Subnet.Metadata.Name));
        Assert.True(removal.RemovePoolOnceDeleted);
        Assert.Null(removal.Status);
    }
}
