using k8s.Models;
using Trellis.ControllerRuntime.Informers;
using Trellis.Crds;
using Trellis.Operator.Planning;

namespace Trellis.Operator.Controllers;

/// <summary>The three caches one leadership term reads (each showing the operator's own writes at once, through Informer.Assume).</summary>
public sealed record InformerCaches(Informer<V1Node> Nodes, Informer<PodNetwork> Networks, Informer<NodeSubnet> Subnets)
{
    /// <summary>The network's NodeSubnets (by label, else by spec).</summary>
    public IReadOnlyList<NodeSubnet> SubnetsOf(string network) =>
        Subnets.List().Where(subnet => NodeSubnetPlanner.NetworkOf(subnet) == network).ToList();
}
