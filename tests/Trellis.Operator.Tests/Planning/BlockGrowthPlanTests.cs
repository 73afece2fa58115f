using k8s.Models;
using Trellis.Addressing;
using Trellis.Crds;
using Trellis.Operator.Allocation;
using Trellis.Operator.Facts;
using Trellis.Operator.Planning;
using Xunit;

namespace Trellis.Operator.Tests.Planning;

/// <summary>
/// Growth and release through the whole plan, as reconciles follow each other: the operator writes spec (generation
/// goes up), the agent reports usage for it (status.observedGeneration catches up), the next plan acts on that.
/// </summary>
public sealed class BlockGrowthPlanTests
{
    private static readonly DateTime Start = new(2026, 12, 1, 4, 0, 0, DateTimeKind.Utc);
    private readonly BlockAllocator _ledger = new();
    private Dictionary<string, NodeSubnet> _stored = new(StringComparer.Ordinal);

    private static PodNetwork Network(string cidr = "10.244.0.0/24", int maxBlocks = 4, int releaseAfter = 600)
    {
        var network = TestObjects.Network("pods", cidr);
        network.Metadata.Generation = 1;
        network.Spec.BlockSize.IPv4 = 28;
        network.Spec.MaxBlocksPerNode = maxBlocks;
        network.Spec.BlockGrowth.ReleaseEmptyAfterSeconds = releaseAfter;
        return network;
    }

    private static V1Node Node(string name, string address, int minute)
    {
        var node = TestObjects.Node(name, address);
        node.Metadata.CreationTimestamp = Start.AddMinutes(minute);
        return node;
    }

    private static readonly V1Node N1 = Node("n1", "192.168.1.11", 1);
    private static readonly V1Node N2 = Node("n2", "192.168.1.12", 2);

    /// <summary>One reconcile at <paramref name="now"/>, its writes applied as the API server would (generation bumped on a spec change).</summary>
    private PodNetworkPlan Reconcile(PodNetwork network, DateTime now, params V1Node[] nodes)
    {
        var subnets = _stored.Values.ToList();
        var cluster = new ClusterFacts([PodNetworkFacts.Parse(network)], nodes.Select(NodeFacts.Parse).ToList(), subnets) { Now = now };
        var plan = PodNetworkPlanner.Plan(PodNetworkFacts.Parse(network), cluster, subnets, _ledger);
        foreach (var created in plan.Create)
        {
            created.Metadata.Generation = 1;
            _stored[created.Metadata.Name] = created;
        }
        foreach (var update in plan.Update)
        {
            var next = NodeSubnetPlanner.ApplyTo(Clone(update.Current), update.Desired);
            next.Metadata.Generation = update.Current.Metadata.Generation + 1;
            _stored[next.Metadata.Name] = next;
        }
        foreach (var deletion in plan.Delete) _stored.Remove(deletion.Subnet.Metadata.Name);
        return plan;
    }

    private static NodeSubnet Clone(NodeSubnet subnet) => k8s.KubernetesJson.Deserialize<NodeSubnet>(k8s.KubernetesJson.Serialize(subnet));

    /// <summary>The agent of <paramref name="node"/> reports usage of every block of the spec it sees: in use per block, in spec order.</summary>
    private void Report(string node, DateTime now, params int[] inUse)
    {
        var subnet = _stored[NodeSubnet.NameFor("pods", node)];
        var previous = subnet.Status?.Blocks ?? [];
        subnet.Status = new NodeSubnetStatus
        {
            ObservedGeneration = subnet.Metadata.Generation,
            Blocks = subnet.Spec.Cidrs.Select((cidr, i) => new BlockUsageStatus
            {
                Cidr = cidr,
                AddressesInUse = inUse[i],
                AddressCapacity = 13,
                EmptySince = inUse[i] > 0 ? null : previous.FirstOrDefault(p => p.Cidr == cidr)?.EmptySince ?? now,
                // The agent closes a draining block in its store before it counts: empty then means drained.
                Drained = subnet.Spec.Draining.Contains(cidr) && inUse[i] == 0,
            }).ToList(),
        };
    }

    /// <summary>The network with node n1 alone, grown to two blocks: it reported 11 of 13 in use.</summary>
    private PodNetwork GrownOnN1(PodNetwork network)
    {
        Reconcile(network, Start, N1);
        Report("n1", Start, 11);
        Reconcile(network, Start, N1);
        Assert.Equal(2, Cidrs("n1").Count);
        return network;
    }

    private IList<string> Cidrs(string node) => _stored[NodeSubnet.NameFor("pods", node)].Spec.Cidrs;

    [Fact]
    public void A_node_running_low_gets_one_more_block_appended_and_no_more_until_the_agent_reports_it()
    {
        var network = Network();
        Reconcile(network, Start, N1, N2);
        Assert.Equal(["10.244.0.0/28"], Cidrs("n1"));

        Report("n1", Start, 9);
        Assert.Empty(Reconcile(network, Start, N1, N2).Update);

        Report("n1", Start, 10);
        var grown = Reconcile(network, Start, N1, N2);
        Assert.Equal([new BlockChange("n1", Cidr.Parse("10.244.0.32/28"))], grown.Taken);
        Assert.Equal(["10.244.0.0/28", "10.244.0.32/28"], Cidrs("n1"));
        Assert.Equal(["10.244.0.0/28", "10.244.0.32/28"], _stored["pods.n1"].Spec.Cidrs);
        Assert.Equal(["10.244.0.1", "10.244.0.33"], _stored["pods.n1"].Spec.Gateways);
        Assert.Equal(3, grown.Status!.BlocksAllocated);

        // The status still speaks of generation 1 (one block, nearly full): no third block on it.
        var again = Reconcile(network, Start, N1, N2);
        Assert.Empty(again.Taken);
        Assert.Empty(again.Update);

        Report("n1", Start, 13, 9);
        Assert.Empty(Reconcile(network, Start, N1, N2).Taken);
        Report("n1", Start, 13, 10);
        Assert.Single(Reconcile(network, Start, N1, N2).Taken);
        Assert.Equal(3, Cidrs("n1").Count);
    }

    [Fact]
    public void At_maxBlocksPerNode_a_full_node_gets_nothing_more()
    {
        var network = Network(maxBlocks: 2);
        Reconcile(network, Start, N1);
        Report("n1", Start, 13);
        Reconcile(network, Start, N1);
        Report("n1", Start, 13, 13);
        var plan = Reconcile(network, Start, N1);
        Assert.Empty(plan.Taken);
        Assert.Equal(2, Cidrs("n1").Count);
        Assert.True(plan.Status!.Exhausted.Count == 0);
    }

    [Fact]
    public void An_exhausted_pool_is_a_condition_naming_the_node_and_never_a_duplicate_block()
    {
        // A /27 holds two /28 blocks: one per node, none left to grow into.
        var network = Network("10.244.0.0/27");
        Reconcile(network, Start, N1, N2);
        Report("n1", Start, 13);
        var plan = Reconcile(network, Start, N1, N2);
        Assert.Empty(plan.Taken);
        Assert.Empty(plan.Update);
        var exhausted = Assert.Single(plan.Status!.Exhausted);
        Assert.Contains("n1 (another block)", exhausted);
        Assert.Equal(["10.244.0.0/28"], Cidrs("n1"));
        Assert.Equal(["10.244.0.16/28"], Cidrs("n2"));

        var status = PodNetworkStatusPlanner.Plan(network, plan.Status, Start);
        var ready = PodNetworkStatusPlanner.Find(status, Conditions.Ready)!;
        Assert.Equal(("False", Conditions.ReasonPoolExhausted), (ready.Status, ready.Reason));
        var warning = Assert.Single(PodNetworkStatusPlanner.Warnings(null, status, plan.Status.Verdict));
        Assert.Equal(Conditions.ReasonPoolExhausted, warning.Reason);
    }

    [Fact]
    public void An_extra_block_empty_for_the_timeout_leaves_the_spec_first_and_the_pool_once_the_NodeSubnet_dropped_it()
    {
        var network = Network(releaseAfter: 300);
        Reconcile(network, Start, N1, N2);
        Report("n1", Start, 11);
        Reconcile(network, Start, N1, N2);
        Assert.Equal(["10.244.0.0/28", "10.244.0.32/28"], Cidrs("n1"));

        var emptied = Start.AddMinutes(1);
        Report("n1", emptied, 1, 0);
        var waiting = Reconcile(network, emptied.AddSeconds(299), N1, N2);
        Assert.Empty(waiting.Retired);
        Assert.Equal(TimeSpan.FromSeconds(1), waiting.RecheckAfter);

        // First it drains: still the node's, closed to new pods, until the agent reports it drained.
        var due = Reconcile(network, emptied.AddSeconds(300), N1, N2);
        Assert.Equal([new BlockChange("n1", Cidr.Parse("10.244.0.32/28"))], due.Draining);
        Assert.Empty(due.Retired);
        Assert.Equal(["10.244.0.0/28", "10.244.0.32/28"], Cidrs("n1"));
        Assert.Equal(["10.244.0.32/28"], _stored["pods.n1"].Spec.Draining);
        Assert.Empty(Reconcile(network, emptied.AddSeconds(301), N1, N2).Retired);

        Report("n1", emptied.AddSeconds(302), 1, 0);
        var drained = Reconcile(network, emptied.AddSeconds(302), N1, N2);
        Assert.Equal([new BlockChange("n1", Cidr.Parse("10.244.0.32/28"))], drained.Retired);
        Assert.Empty(drained.Released);
        Assert.Equal(["10.244.0.0/28"], Cidrs("n1"));
        Assert.Empty(_stored["pods.n1"].Spec.Draining);
        // Still held while leaving: a third node does not get it.
        var n3 = Node("n3", "192.168.1.13", 3);
        var joined = Reconcile(network, emptied.AddSeconds(300), N1, N2, n3);
        Assert.Equal([new BlockChange("n1", Cidr.Parse("10.244.0.32/28"))], joined.Released);
        // The planner releases before it allocates, so the block leaves n1 and n3 may take it in the same plan: never both at once.
        Assert.DoesNotContain(_stored.Values, s => s.Spec.NodeName == "n1" && s.Spec.Cidrs.Contains("10.244.0.32/28"));
    }

    [Fact]
    public void A_retired_block_stays_held_while_its_NodeSubnet_still_lists_it()
    {
        var network = GrownOnN1(Network(releaseAfter: 0));
        Report("n1", Start, 1, 0);
        Assert.Single(Reconcile(network, Start, N1).Draining);
        Report("n1", Start, 1, 0);
        var subnetsBefore = _stored.Values.Select(Clone).ToList();
        var due = Reconcile(network, Start, N1);
        Assert.Single(due.Retired);
        // The update failed: the stored NodeSubnet still lists the block.
        _stored = subnetsBefore.ToDictionary(s => s.Metadata.Name);
        var n2 = Reconcile(network, Start, N1, N2);
        Assert.Empty(n2.Released);
        Assert.DoesNotContain("10.244.0.16/28", Cidrs("n2"));
        Assert.Equal(["10.244.0.0/28"], Cidrs("n1"));
    }

    [Fact]
    public void The_first_block_and_blocks_in_use_are_never_released()
    {
        var network = GrownOnN1(Network(releaseAfter: 0));
        Report("n1", Start, 0, 1);
        var plan = Reconcile(network, Start.AddDays(1), N1);
        Assert.Empty(plan.Retired);
        Assert.Equal(2, Cidrs("n1").Count);
    }

    [Fact]
    public void A_stale_or_absent_report_never_releases()
    {
        var network = GrownOnN1(Network(releaseAfter: 0));
        // Absent: the agent has not written a status since the block was added (it still speaks of generation 1).
        Assert.Empty(Reconcile(network, Start.AddDays(1), N1).Retired);
        // Stale: a report of empty blocks for an older generation of the spec.
        Report("n1", Start, 0, 0);
        _stored["pods.n1"].Status!.ObservedGeneration = 1;
        Assert.Empty(Reconcile(network, Start.AddDays(1), N1).Retired);
        _stored["pods.n1"].Status = null;
        Assert.Empty(Reconcile(network, Start.AddDays(1), N1).Retired);
    }

    [Fact]
    public void After_an_operator_restart_the_first_block_is_still_the_first_even_when_an_extra_block_has_a_lower_address()
    {
        var network = Network(releaseAfter: 0);
        Reconcile(network, Start, N1, N2);   // n1 .0/28, n2 .16/28
        _ledger.Release("pods", "n2");
        _stored.Remove("pods.n2");
        Report("n1", Start, 11);
        Reconcile(network, Start, N1);       // n1 grows into .16/28
        Assert.Equal(["10.244.0.0/28", "10.244.0.16/28"], Cidrs("n1"));

        var restored = new BlockAllocator();
        foreach (var cidr in Cidrs("n1")) restored.Restore("pods", "n1", Cidr.Parse(cidr));
        Assert.Equal(["10.244.0.0/28", "10.244.0.16/28"], restored.BlocksOf("pods", "n1").Select(b => b.ToString()));
        // Planned from a ledger holding an extra block below the first, the order of the spec is kept.
        var planned = NodeSubnetPlanner.Plan(PodNetworkFacts.Parse(network), NodeFacts.Parse(N1),
            [Cidr.Parse("10.244.0.32/28"), Cidr.Parse("10.244.0.0/28")])!;
        Assert.Equal(["10.244.0.32/28", "10.244.0.0/28"], planned.Spec.Cidrs);
    }

    /// <summary>
    /// The race a one-step release lost: a pod's ADD took an address in the extra block between the agent's "empty" report
    /// and the block's removal, and the block went to another node with the pod still on it. Draining closes the block first;
    /// an address found in it then (the ADD came before the close) keeps the block on its node, open again.
    /// </summary>
    [Fact]
    public void A_pod_that_got_into_a_draining_block_before_its_close_keeps_the_block_on_its_node()
    {
        var network = GrownOnN1(Network(releaseAfter: 0));
        Report("n1", Start, 1, 0);
        Assert.Single(Reconcile(network, Start, N1).Draining);

        Report("n1", Start, 1, 1);
        var raced = Reconcile(network, Start, N1);
        Assert.Equal([new BlockChange("n1", Cidr.Parse("10.244.0.16/28"))], raced.Reopened);
        Assert.Empty(raced.Retired);
        Assert.Equal(["10.244.0.0/28", "10.244.0.16/28"], Cidrs("n1"));
        Assert.Empty(_stored["pods.n1"].Spec.Draining);

        // A second node never gets it while n1 holds it.
        Reconcile(network, Start, N1, N2);
        Assert.DoesNotContain("10.244.0.16/28", Cidrs("n2"));
    }

    [Fact]
    public void A_draining_block_is_released_only_on_a_report_about_the_spec_that_drains_it()
    {
        var network = GrownOnN1(Network(releaseAfter: 0));
        Report("n1", Start, 1, 0);
        Reconcile(network, Start, N1);
        // The agent's last report is about the generation before the drain: it proves nothing about the close.
        var status = _stored["pods.n1"].Status!;
        status.Blocks![1].Drained = true;
        status.ObservedGeneration = _stored["pods.n1"].Metadata.Generation - 1;
        Assert.Empty(Reconcile(network, Start.AddDays(1), N1).Retired);
        Assert.Equal(2, Cidrs("n1").Count);
    }
}
