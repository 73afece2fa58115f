using Trellis.Addressing;
using k8s.Models;
using Trellis.Crds;
using Trellis.Operator.Planning;
using Trellis.Operator.Facts;
using Xunit;

namespace Trellis.Operator.Tests.Planning;

public sealed class NodeSubnetPlannerTests
{
    private static IReadOnlyList<Cidr> Blocks(params string[] texts) => texts.Select(Cidr.Parse).ToList();

    [Fact]
    public void Plans_the_whole_nodesubnet_from_network_node_and_block()
    {
        var network = TestObjects.Network("default", "10.244.0.0/16");
        network.Spec.Routing = new RoutingSpec { Mode = RoutingModes.Vxlan, Vxlan = new VxlanSpec { Vni = 7, Port = 8472 } };
        network.Spec.Mtu = 1400;
        network.Spec.NatOutgoing = false;
        var node = TestObjects.Node("worker-1", "192.168.1.11");

        var subnet = TestObjects.Plan(network, node, Blocks("10.244.3.0/24"))!;

        Assert.Equal("default.worker-1", subnet.Metadata.Name);
        Assert.Equal("default", subnet.Metadata.Labels[TrellisApi.PodNetworkLabel]);
        Assert.Equal("worker-1", subnet.Metadata.Labels[TrellisApi.NodeLabel]);
        var owner = Assert.Single(subnet.Metadata.OwnerReferences);
        Assert.Equal((TrellisApi.ApiVersion, PodNetwork.KindName, "default", "uid-default", true), (owner.ApiVersion, owner.Kind, owner.Name, owner.Uid, owner.Controller == true));
        Assert.Equal("worker-1", subnet.Spec.NodeName);
        Assert.Equal("default", subnet.Spec.PodNetwork);
        Assert.Equal(["10.244.3.0/24"], subnet.Spec.Cidrs);
        Assert.Equal(["10.244.3.1"], subnet.Spec.Gateways);
        Assert.Equal(["192.168.1.11"], subnet.Spec.NodeAddresses);
        Assert.Equal(["10.244.0.0/16"], subnet.Spec.NetworkCidrs);
        Assert.Equal((RoutingModes.Vxlan, 7, 8472), (subnet.Spec.Routing.Mode, subnet.Spec.Routing.Vxlan.Vni, subnet.Spec.Routing.Vxlan.Port));
        Assert.Equal(1400, subnet.Spec.Mtu);
        Assert.False(subnet.Spec.NatOutgoing);
    }

    [Fact]
    public void A_node_without_a_block_gets_nothing_and_one_without_an_internal_ip_keeps_its_blocks_unroutable()
    {
        var network = TestObjects.Network("default", "10.244.0.0/16");
        Assert.Null(TestObjects.Plan(network, TestObjects.Node("n", "192.168.1.11"), Blocks()));
        var bare = TestObjects.Plan(network, TestObjects.Node("bare"), Blocks("10.244.0.0/24"))!;
        Assert.Equal(["10.244.0.0/24"], bare.Spec.Cidrs);
        Assert.Empty(bare.Spec.NodeAddresses);
        var external = TestObjects.Node("ext");
        external.Status.Addresses.Add(new V1NodeAddress { Address = "203.0.113.5", Type = "ExternalIP" });
        Assert.Empty(TestObjects.Plan(network, external, Blocks("10.244.0.0/24"))!.Spec.NodeAddresses);
    }

    [Fact]
    public void Dual_stack_blocks_follow_the_order_of_the_network_families()
    {
        var network = TestObjects.Network("dual", "fd00:10:244::/64", "10.244.0.0/16");
        var node = TestObjects.Node("n1", "192.168.1.11", "fd00:1::11", "192.168.1.11", "not-an-ip");
        var subnet = TestObjects.Plan(network, node, Blocks("10.244.0.0/24", "fd00:10:244::/80"))!;
        Assert.Equal(["fd00:10:244::/80", "10.244.0.0/24"], subnet.Spec.Cidrs);
        Assert.Equal(["fd00:10:244::1", "10.244.0.1"], subnet.Spec.Gateways);
        Assert.Equal(["192.168.1.11", "fd00:1::11"], subnet.Spec.NodeAddresses);
    }

    [Fact]
    public void NeedsUpdate_sees_spec_label_and_owner_changes_but_not_foreign_metadata_or_status()
    {
        var network = TestObjects.Network("default", "10.244.0.0/16");
        var desired = TestObjects.Plan(network, TestObjects.Node("n1", "192.168.1.11"), Blocks("10.244.0.0/24"))!;
        var existing = TestObjects.Plan(network, TestObjects.Node("n1", "192.168.1.11"), Blocks("10.244.0.0/24"))!;
        existing.Metadata.Labels["team"] = "net";
        existing.Metadata.Annotations = new Dictionary<string, string> { ["note"] = "x" };
        existing.Status = new NodeSubnetStatus { PeersRouted = 3 };
        Assert.False(NodeSubnetPlanner.NeedsUpdate(existing, desired));

        var moved = TestObjects.Plan(network, TestObjects.Node("n1", "192.168.1.99"), Blocks("10.244.0.0/24"))!;
        Assert.True(NodeSubnetPlanner.NeedsUpdate(existing, moved));

        var relabelled = TestObjects.Plan(network, TestObjects.Node("n1", "192.168.1.11"), Blocks("10.244.0.0/24"))!;
        relabelled.Metadata.Labels[TrellisApi.NodeLabel] = "other";
        Assert.True(NodeSubnetPlanner.NeedsUpdate(relabelled, desired));

        var orphan = TestObjects.Plan(network, TestObjects.Node("n1", "192.168.1.11"), Blocks("10.244.0.0/24"))!;
        orphan.Metadata.OwnerReferences = [];
        Assert.True(NodeSubnetPlanner.NeedsUpdate(orphan, desired));

        var routed = TestObjects.Plan(network, TestObjects.Node("n1", "192.168.1.11"), Blocks("10.244.0.0/24"))!;
        routed.Spec.Routing.Vxlan.Port = 1;
        Assert.True(NodeSubnetPlanner.NeedsUpdate(routed, desired));
    }

    [Fact]
    public void ApplyTo_keeps_foreign_labels_and_status()
    {
        var network = TestObjects.Network("default", "10.244.0.0/16");
        var existing = TestObjects.Plan(network, TestObjects.Node("n1", "192.168.1.11"), Blocks("10.244.0.0/24"))!;
        existing.Metadata.Labels["team"] = "net";
        existing.Metadata.ResourceVersion = "42";
        existing.Status = new NodeSubnetStatus { PeersRouted = 3 };
        var desired = TestObjects.Plan(network, TestObjects.Node("n1", "192.168.1.12"), Blocks("10.244.0.0/24"))!;

        var updated = NodeSubnetPlanner.ApplyTo(existing, desired);

        Assert.Equal("net", updated.Metadata.Labels["team"]);
        Assert.Equal("42", updated.Metadata.ResourceVersion);
        Assert.Equal(3, updated.Status!.PeersRouted);
        Assert.Equal(["192.168.1.12"], updated.Spec.NodeAddresses);
        Assert.False(NodeSubnetPlanner.NeedsUpdate(updated, desired));
    }
}
