using k8s.Models;
using Trellis.Addressing;
using Trellis.Crds;
using Trellis.Operator.Facts;
using Trellis.Operator.Planning;

namespace Trellis.Operator.Tests;

/// <summary>Builders for the objects tests talk about.</summary>
internal static class TestObjects
{
    public static PodNetwork Network(string name, params string[] cidrs) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Uid = $"uid-{name}" },
        Spec = new PodNetworkSpec { Cidrs = cidrs.ToList() },
    };

    public static V1Node Node(string name, params string[] internalAddresses) => new()
    {
        ApiVersion = "v1",
        Kind = "Node",
        Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string>() },
        Status = new V1NodeStatus
        {
            Addresses = internalAddresses.Select(a => new V1NodeAddress { Address = a, Type = "InternalIP" })
                .Append(new V1NodeAddress { Address = name, Type = "Hostname" }).ToList(),
        },
    };

    /// <summary>The NodeSubnet the operator plans for the node's blocks, from the objects as the API holds them.</summary>
    public static NodeSubnet? Plan(PodNetwork network, V1Node node, IReadOnlyList<Cidr> blocks) =>
        NodeSubnetPlanner.Plan(PodNetworkFacts.Parse(network), NodeFacts.Parse(node), blocks);
}
