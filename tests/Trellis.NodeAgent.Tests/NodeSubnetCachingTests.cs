using k8s.Models;
using Trellis.Crds;
using Trellis.NodeAgent;
using Xunit;

namespace Trellis.NodeAgent.Tests;

public sealed class NodeSubnetCachingTests
{
    private static NodeSubnet Subnet(string node) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = $"pods-{node}",
            ResourceVersion = "42",
            Generation = 3,
            Labels = new Dictionary<string, string> { [TrellisApi.NodeLabel] = node },
            Annotations = new Dictionary<string, string> { ["kubectl.kubernetes.io/last-applied-configuration"] = "{\"the\":\"whole object again\"}" },
            ManagedFields = [new V1ManagedFieldsEntry { Manager = "trellis-operator", Operation = "Apply" }],
        },
        Spec = new NodeSubnetSpec { NodeName = node, NodeAddresses = ["192.168.1.12"], PodNetwork = "pods", Cidrs = ["10.244.2.0/24"] },
        Status = new NodeSubnetStatus { PeersRouted = 7, Blocks = [new BlockUsageStatus { Cidr = "10.244.2.0/24", AddressesInUse = 3 }] },
    };

    [Fact]
    public void APeerKeepsItsIdentityAndSpecOnly()
    {
        var kept = NodeSubnetCaching.KeepWhatPassesRead(Subnet("node2"), "node1");
        Assert.Null(kept.Status);
        Assert.Null(kept.Metadata.ManagedFields);
        Assert.Null(kept.Metadata.Annotations);
        Assert.Equal(("pods-node2", "42", 3L, "node2"), (kept.Metadata.Name, kept.Metadata.ResourceVersion, kept.Metadata.Generation!.Value, kept.Metadata.Labels[TrellisApi.NodeLabel]));
        Assert.Equal(("node2", "192.168.1.12", "pods"), (kept.Spec.NodeName, kept.Spec.NodeAddresses.Single(), kept.Spec.PodNetwork));
        Assert.Equal(["10.244.2.0/24"], kept.Spec.Cidrs);
    }

    [Fact]
    public void ItsOwnKeepsItsStatusWhichItsWritesBuildOn()
    {
        var kept = NodeSubnetCaching.KeepWhatPassesRead(Subnet("node1"), "node1");
        Assert.Equal(7, kept.Status!.PeersRouted);
        Assert.Equal(3, kept.Status.Blocks!.Single().AddressesInUse);
        Assert.Null(kept.Metadata.ManagedFields);
        Assert.Null(kept.Metadata.Annotations);
    }
}
