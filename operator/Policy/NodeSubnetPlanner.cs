using Trellis.Addressing;
using System.Net;
using System.Net.Sockets;
using k8s.Models;
using Trellis.Crds;

namespace Trellis.Operator.Policy;

/// <summary>
/// The one place that turns a PodNetwork, a Node and the node's blocks into the NodeSubnet the
/// node's agent will program. Everything an agent needs is resolved here, so agents read nothing else.
/// </summary>
public static class NodeSubnetPlanner
{
    public const string InternalIP = "InternalIP";

    /// <summary>The node's underlay addresses: its InternalIP entries, in order, without duplicates.</summary>
    public static IReadOnlyList<IPAddress> InternalAddresses(V1Node node)
    {
        var found = new List<IPAddress>();
        foreach (var address in node.Status?.Addresses ?? [])
            if (address.Type == InternalIP && IPAddress.TryParse(address.Address, out var ip) && !found.Contains(ip))
                found.Add(ip);
        return found;
    }

    /// <summary>Families the network hands out blocks of, in the order its ranges name them.</summary>
    public static IReadOnlyList<AddressFamily> Families(PodNetwork network)
    {
        var families = new List<AddressFamily>(2);
        foreach (var text in network.Spec.Cidrs)
            if (Cidr.TryParse(text, out var range) && !families.Contains(range.Family))
                families.Add(range.Family);
        return families;
    }

    /// <summary>
    /// The desired NodeSubnet, or null when the node has no InternalIP (an agent could not be
    /// reached by its peers, so it gets nothing) or no block yet.
    /// </summary>
    public static NodeSubnet? Plan(PodNetwork network, V1Node node, IReadOnlyList<Cidr> blocks)
    {
        var addresses = InternalAddresses(node);
        if (addresses.Count == 0 || blocks.Count == 0) return null;
        var familyOrder = Families(network).ToList();
        var ordered = blocks
            .OrderBy(block => familyOrder.IndexOf(block.Family) is var i and >= 0 ? i : int.MaxValue)
            .ThenBy(block => block)
            .ToList();
        var networkName = network.Metadata.Name;
        var nodeName = node.Metadata.Name;
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
                OwnerReferences = [OwnerReference(network)],
            },
            Spec = new NodeSubnetSpec
            {
                NodeName = nodeName,
                PodNetwork = networkName,
                Cidrs = ordered.Select(block => block.ToString()).ToList(),
                Gateways = ordered.Select(block => Gateway(block).ToString()).ToList(),
                NodeAddresses = addresses.Select(address => address.ToString()).ToList(),
                NetworkCidrs = network.Spec.Cidrs.Select(Canonical).ToList(),
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

    /// <summary>The block's first host address, held by the node's bridge.</summary>
    public static IPAddress Gateway(Cidr block) => block.AddressAt(UInt128.One);

    public static V1OwnerReference OwnerReference(PodNetwork network) => new()
    {
        ApiVersion = TrellisApi.ApiVersion,
        Kind = PodNetwork.KindName,
        Name = network.Metadata.Name,
        Uid = network.Metadata.Uid,
        Controller = true,
        BlockOwnerDeletion = true,
    };

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
        return !SpecEquals(existing.Spec, desired.Spec);
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

    public static bool SpecEquals(NodeSubnetSpec a, NodeSubnetSpec b) =>
        a.NodeName == b.NodeName && a.PodNetwork == b.PodNetwork &&
        a.Cidrs.SequenceEqual(b.Cidrs) && a.Gateways.SequenceEqual(b.Gateways) &&
        a.NodeAddresses.SequenceEqual(b.NodeAddresses) && a.NetworkCidrs.SequenceEqual(b.NetworkCidrs) &&
        a.Routing.Mode == b.Routing.Mode && a.Routing.Vxlan.Vni == b.Routing.Vxlan.Vni && a.Routing.Vxlan.Port == b.Routing.Vxlan.Port &&
        BgpPolicy.Equal(a.Routing.Bgp, b.Routing.Bgp) &&
        a.Mtu == b.Mtu && a.NatOutgoing == b.NatOutgoing;

    /// <summary>The blocks a NodeSubnet records; text that does not parse is left out (and reported by the caller).</summary>
    public static IReadOnlyList<Cidr> Blocks(NodeSubnet subnet)
    {
        var blocks = new List<Cidr>();
        foreach (var text in subnet.Spec.Cidrs)
            if (Cidr.TryParse(text, out var block)) blocks.Add(block);
        return blocks;
    }

    private static string Canonical(string text) => Cidr.TryParse(text, out var cidr) ? cidr.ToString() : text;
}
