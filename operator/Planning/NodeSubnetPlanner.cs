using Trellis.Addressing;
using System.Net;
using k8s.Models;
using Trellis.ControllerRuntime.Updates;
using Trellis.Crds;
using Trellis.Operator.Facts;

namespace Trellis.Operator.Planning;

/// <summary>
/// The one place that turns a PodNetwork, a Node and the node's blocks into the NodeSubnet the
/// node's agent will program. Everything an agent needs is resolved here, so agents read nothing else.
/// </summary>
public static class NodeSubnetPlanner
{
    /// <summary>
    /// The desired NodeSubnet, or null when the node holds no block. A node without an InternalIP keeps its
    /// NodeSubnet with no nodeAddresses: its blocks stay its own, and peers know they cannot route them yet.
    /// </summary>
    /// <param name="draining">Blocks closed to new pods on their way out; those not among <paramref name="blocks"/> are dropped.</param>
    public static NodeSubnet? Plan(PodNetworkFacts network, NodeFacts node, IReadOnlyList<Cidr> blocks, IReadOnlySet<Cidr>? draining = null)
    {
        if (blocks.Count == 0) return null;
        var familyOrder = network.Families;
        // Within a family the blocks keep the order they were given (a stable sort), so the node's first block stays first.
        var ordered = blocks
            .OrderBy(block => IndexOf(familyOrder, block.Family))
            .ToList();
        var networkName = network.Name;
        var nodeName = node.Name;
        return new NodeSubnet
        {
            Metadata = new V1ObjectMeta
            {
                Name = NodeSubnet.NameFor(networkName, nodeName),
                Labels = new Dictionary<string, string>
                {
                    [TrellisApi.PodNetworkLabel] = networkName,
                    [TrellisApi.NodeLabel] = nodeName,
                },
                OwnerReferences = [OwnerReference(network.Network)],
            },
            Spec = new NodeSubnetSpec
            {
                NodeName = nodeName,
                PodNetwork = networkName,
                Cidrs = ordered.Select(block => block.ToString()).ToList(),
                Draining = ordered.Where(block => draining?.Contains(block) == true).Select(block => block.ToString()).ToList(),
                Gateways = ordered.Select(block => BlockGateway.Of(block).ToString()).ToList(),
                NodeAddresses = node.InternalAddresses.Select(address => address.ToString()).ToList(),
                NetworkCidrs = network.Ranges.Select(range => range.ToString()).ToList(),
                Routing = new RoutingSpec
                {
                    Mode = network.Spec.Routing.Mode,
                    Vxlan = new VxlanSpec { Vni = network.Spec.Routing.Vxlan.Vni, Port = network.Spec.Routing.Vxlan.Port },
                    Bgp = BgpPolicy.ForNode(network.Spec.Routing.Bgp, node),
                },
                Mtu = network.Spec.Mtu,
                NatOutgoing = network.Spec.NatOutgoing,
            },
        };
    }

    public static V1OwnerReference OwnerReference(PodNetwork network) => new()
    {
        ApiVersion = TrellisApi.ApiVersion,
        Kind = PodNetwork.KindName,
        Name = network.Metadata.Name,
        Uid = network.Metadata.Uid,
        Controller = true,
        BlockOwnerDeletion = true,
    };

    /// <summary>The PodNetwork a NodeSubnet belongs to: its label, else its spec.</summary>
    public static string? NetworkOf(NodeSubnet subnet) =>
        subnet.Metadata.Labels?.TryGetValue(TrellisApi.PodNetworkLabel, out var label) == true ? label
        : string.IsNullOrEmpty(subnet.Spec.PodNetwork) ? null : subnet.Spec.PodNetwork;

    /// <summary>
    /// True when <paramref name="existing"/> must be rewritten to match <paramref name="desired"/>:
    /// its spec, our labels or its controller reference differ. Other labels, annotations and status are left alone.
    /// </summary>
    public static bool NeedsUpdate(NodeSubnet existing, NodeSubnet desired)
    {
        var labels = existing.Metadata.Labels ?? new Dictionary<string, string>();
        foreach (var (key, value) in desired.Metadata.Labels ?? new Dictionary<string, string>())
            if (!labels.TryGetValue(key, out var actual) || actual != value) return true;
        var owner = desired.Metadata.OwnerReferences?.FirstOrDefault();
        if (owner is not null && existing.Metadata.OwnerReferences?.Any(o =>
                o.Controller == true && o.Uid == owner.Uid && o.Name == owner.Name && o.Kind == owner.Kind) != true)
            return true;
        return !SpecComparison.Same(existing.Spec, desired.Spec);
    }

    /// <summary>Copies what <see cref="Plan"/> decides onto an existing object, keeping its metadata otherwise.</summary>
    public static NodeSubnet ApplyTo(NodeSubnet existing, NodeSubnet desired)
    {
        var labels = new Dictionary<string, string>(existing.Metadata.Labels ?? new Dictionary<string, string>());
        foreach (var (key, value) in desired.Metadata.Labels ?? new Dictionary<string, string>()) labels[key] = value;
        existing.Metadata.Labels = labels;
        var owners = (existing.Metadata.OwnerReferences ?? []).Where(o => o.Controller != true).ToList();
        owners.AddRange(desired.Metadata.OwnerReferences ?? []);
        existing.Metadata.OwnerReferences = owners;
        existing.Spec = desired.Spec;
        return existing;
    }

    /// <summary>The blocks a NodeSubnet records; text that does not parse is left out (and reported by the caller).</summary>
    public static IReadOnlyList<Cidr> Blocks(NodeSubnet subnet)
    {
        var blocks = new List<Cidr>();
        foreach (var text in subnet.Spec.Cidrs)
            if (Cidr.TryParse(text, out var block)) blocks.Add(block);
        return blocks;
    }

    /// <summary>The blocks a NodeSubnet lists as draining; text that does not parse is left out.</summary>
    public static HashSet<Cidr> Draining(NodeSubnet subnet)
    {
        var blocks = new HashSet<Cidr>();
        foreach (var text in subnet.Spec.Draining ?? [])
            if (Cidr.TryParse(text, out var block)) blocks.Add(block);
        return blocks;
    }

    private static int IndexOf(IReadOnlyList<System.Net.Sockets.AddressFamily> order, System.Net.Sockets.AddressFamily family)
    {
        for (int i = 0; i < order.Count; i++)
            if (order[i] == family) return i;
        return int.MaxValue;
    }
}
