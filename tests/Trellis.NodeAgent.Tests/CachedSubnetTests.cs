using k8s.Models;
using Trellis.Crds;
using Trellis.NodeAgent.Planning;
using Xunit;

namespace Trellis.NodeAgent.Tests;

public sealed class CachedSubnetTests
{
    private static NodeSubnet Subnet(string node, string cidr = "10.244.2.0/24", string? label = null) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = $"pods-{node}",
            Uid = $"uid-{node}",
            ResourceVersion = "42",
            Generation = 3,
            Labels = new Dictionary<string, string> { [TrellisApi.NodeLabel] = node, ["team"] = label ?? "a" },
            Annotations = new Dictionary<string, string> { ["kubectl.kubernetes.io/last-applied-configuration"] = "{\"the\":\"whole object again\"}" },
        },
        Spec = new NodeSubnetSpec
        {
            NodeName = node, NodeAddresses = ["192.168.1.12"], PodNetwork = "pods", Cidrs = [cidr], NetworkCidrs = ["10.244.0.0/16"],
            Routing = new RoutingSpec { Mode = RoutingModes.Bgp, Bgp = new BgpSpec { Asn = 64512, Peers = [new BgpPeerSpec { Address = "192.168.1.1", Asn = 64500 }] } },
        },
        Status = new NodeSubnetStatus { PeersRouted = 7, Blocks = [new BlockUsageStatus { Cidr = cidr, AddressesInUse = 3 }] },
    };

    [Fact]
    public void A_peer_keeps_its_parsed_facts_and_identity_and_no_API_object()
    {
        var kept = CachedSubnet.Of(Subnet("node2"), "node1");
        Assert.Null(kept.Object);
        Assert.False(kept.Own);
        Assert.Equal(("pods-node2", "uid-node2"), (kept.Name, kept.Uid));
        var facts = Assert.IsType<SubnetFacts>(kept.Facts);
        Assert.Equal(("node2", "pods", 3L), (facts.NodeName, facts.PodNetwork, facts.Generation));
        Assert.Equal("10.244.2.0/24", facts.Blocks.Single().Cidr.ToString());
        Assert.Equal("192.168.1.12", facts.NodeAddresses.Single().ToString());
        Assert.Equal(64500u, facts.Routing.Bgp!.Peers.Single().Asn);
    }

    [Fact]
    public void Its_own_keeps_the_object_whose_status_its_writes_build_on_without_its_annotations()
    {
        var kept = CachedSubnet.Of(Subnet("node1"), "node1");
        Assert.True(kept.Own);
        Assert.Equal(7, kept.Object!.Status!.PeersRouted);
        Assert.Equal(3, kept.Object.Status.Blocks!.Single().AddressesInUse);
        Assert.Null(kept.Object.Metadata.Annotations);
        Assert.NotNull(kept.Facts);
    }

    [Fact]
    public void A_spec_that_does_not_parse_is_kept_as_its_fault_and_still_known_as_own()
    {
        var kept = CachedSubnet.Of(Subnet("node1", cidr: "10.244.2.0/33"), "node1");
        Assert.True(kept.Own);
        Assert.Null(kept.Facts);
        Assert.Contains("pods-node1", kept.Fault);
        Assert.Contains("spec.cidrs[0]", kept.Fault);
    }

    [Fact]
    public void Only_a_change_a_pass_plans_from_makes_two_entries_differ()
    {
        var before = CachedSubnet.Of(Subnet("node2"), "node1");
        Assert.True(before.PlansLike(CachedSubnet.Of(Subnet("node2"), "node1")));

        // A status write, a label or a new resourceVersion plans the same.
        var relabelled = Subnet("node2", label: "b");
        relabelled.Metadata.ResourceVersion = "43";
        relabelled.Status = new NodeSubnetStatus { PeersRouted = 8 };
        Assert.True(before.PlansLike(CachedSubnet.Of(relabelled, "node1")));

        Assert.False(before.PlansLike(CachedSubnet.Of(Subnet("node2", cidr: "10.244.9.0/24"), "node1")));
        Assert.False(before.PlansLike(CachedSubnet.Of(Subnet("node2", cidr: "10.244.9.0/33"), "node1")));
        var deleting = Subnet("node2");
        deleting.Metadata.DeletionTimestamp = DateTime.UtcNow;
        Assert.False(before.PlansLike(CachedSubnet.Of(deleting, "node1")));
        var bgpPeerMoved = Subnet("node2");
        bgpPeerMoved.Spec.Routing!.Bgp!.Peers![0].Address = "192.168.1.2";
        Assert.False(before.PlansLike(CachedSubnet.Of(bgpPeerMoved, "node1")));
        var nextGeneration = Subnet("node2");
        nextGeneration.Metadata.Generation = 4;
        Assert.False(before.PlansLike(CachedSubnet.Of(nextGeneration, "node1")));
    }

    [Fact]
    public void An_event_about_a_peer_names_it_by_its_identity()
    {
        var subject = CachedSubnet.Of(Subnet("node2"), "node1").EventSubject();
        var reference = Trellis.ControllerRuntime.Events.ObjectReferences.Of(subject);
        Assert.Equal(("NodeSubnet", "pods-node2", "uid-node2"), (reference.Kind, reference.Name, reference.Uid));
        Assert.Equal($"{TrellisApi.Group}/{TrellisApi.Version}", reference.ApiVersion);
    }

    [Fact]
    public void A_hostile_or_empty_object_becomes_a_fault_and_never_throws_in_the_informer()
    {
        Assert.NotNull(CachedSubnet.Of(new NodeSubnet(), "node1").Fault);
        var holes = Subnet("node2");
        holes.Spec.Cidrs = [null!];
        holes.Spec.Gateways = [null!];
        holes.Spec.NodeAddresses = [null!];
        holes.Spec.NetworkCidrs = [null!];
        holes.Spec.Routing!.Bgp!.Peers = [new BgpPeerSpec()];
        var kept = CachedSubnet.Of(holes, "node1");
        Assert.Null(kept.Facts);
        Assert.Contains("pods-node2", kept.Fault);
        var nullPeer = Subnet("node2");
        nullPeer.Spec.Routing!.Bgp!.Peers = [new BgpPeerSpec { Address = null!, Asn = 64500 }];
        Assert.Contains("spec.routing.bgp.peers[0]", CachedSubnet.Of(nullPeer, "node1").Fault);
    }
}
