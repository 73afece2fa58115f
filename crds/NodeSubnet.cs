using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace Trellis.Crds;

/// <summary>
/// One node's share of one PodNetwork: its block(s), gateway(s), underlay address(es) and the
/// routing policy resolved from the network, so an agent needs nothing but NodeSubnets.
/// Named <c>&lt;network&gt;.&lt;node&gt;</c>.
/// </summary>
[KubernetesEntity(Group = TrellisApi.Group, ApiVersion = TrellisApi.Version, Kind = KindName, PluralName = Plural)]
public sealed class NodeSubnet : IKubernetesObject<V1ObjectMeta>, ISpec<NodeSubnetSpec>, IStatus<NodeSubnetStatus?>
{
    public const string KindName = "NodeSubnet";
    public const string Plural = "nodesubnets";

    [JsonPropertyName("apiVersion")] public string ApiVersion { get; set; } = TrellisApi.ApiVersion;
    [JsonPropertyName("kind")] public string Kind { get; set; } = KindName;
    [JsonPropertyName("metadata")] public V1ObjectMeta Metadata { get; set; } = new();
    [JsonPropertyName("spec")] public NodeSubnetSpec Spec { get; set; } = new();
    [JsonPropertyName("status")] public NodeSubnetStatus? Status { get; set; }

    public static string NameFor(string podNetwork, string node) => $"{podNetwork}.{node}";
}

public sealed class NodeSubnetList : IKubernetesObject<V1ListMeta>, IItems<NodeSubnet>
{
    [JsonPropertyName("apiVersion")] public string ApiVersion { get; set; } = TrellisApi.ApiVersion;
    [JsonPropertyName("kind")] public string Kind { get; set; } = NodeSubnet.KindName + "List";
    [JsonPropertyName("metadata")] public V1ListMeta Metadata { get; set; } = new();
    [JsonPropertyName("items")] public IList<NodeSubnet> Items { get; set; } = new List<NodeSubnet>();
}

public sealed class NodeSubnetSpec
{
    [JsonPropertyName("nodeName")] public string NodeName { get; set; } = "";
    [JsonPropertyName("podNetwork")] public string PodNetwork { get; set; } = "";

    /// <summary>The node's blocks, per family in the order they were given (the first is the node's own for as long as it exists; extra blocks follow).</summary>
    [JsonPropertyName("cidrs")] public IList<string> Cidrs { get; set; } = new List<string>();

    /// <summary>
    /// Blocks of <see cref="Cidrs"/> on their way out: still the node's (routed, its gateway on the bridge, its pods
    /// keep their addresses) but closed to new pods. The operator takes a block away only after the agent reports it
    /// drained: closed in the node's IPAM store with no address in use.
    /// </summary>
    [JsonPropertyName("draining")] public IList<string> Draining { get; set; } = new List<string>();

    /// <summary>Gateway address of each block (its first host), in the order of <see cref="Cidrs"/>.</summary>
    [JsonPropertyName("gateways")] public IList<string> Gateways { get; set; } = new List<string>();

    /// <summary>
    /// The node's underlay addresses (InternalIP from Node.status.addresses). Empty while the node has none:
    /// its blocks stay its own, but no peer can route them.
    /// </summary>
    [JsonPropertyName("nodeAddresses")] public IList<string> NodeAddresses { get; set; } = new List<string>();

    /// <summary>The PodNetwork's ranges, so agents know which destinations are pod traffic (never masqueraded).</summary>
    [JsonPropertyName("networkCIDRs")] public IList<string> NetworkCidrs { get; set; } = new List<string>();

    [JsonPropertyName("routing")] public RoutingSpec Routing { get; set; } = new();
    [JsonPropertyName("mtu")] public int Mtu { get; set; }
    [JsonPropertyName("natOutgoing")] public bool NatOutgoing { get; set; } = true;
}

public sealed class NodeSubnetStatus
{
    [JsonPropertyName("observedGeneration")] public long? ObservedGeneration { get; set; }
    [JsonPropertyName("conditions")] public IList<V1Condition> Conditions { get; set; } = new List<V1Condition>();
    [JsonPropertyName("peersRouted")] public int PeersRouted { get; set; }
    [JsonPropertyName("addressesInUse")] public int AddressesInUse { get; set; }
    [JsonPropertyName("addressCapacity")] public long AddressCapacity { get; set; }

    /// <summary>Usage of each block of spec.cidrs, as the agent measured it in its IPAM store (the operator grows and releases blocks by it).</summary>
    [JsonPropertyName("blocks")] public IList<BlockUsageStatus>? Blocks { get; set; }

    /// <summary>Usage summed per address family.</summary>
    [JsonPropertyName("families")] public IList<FamilyUsageStatus>? Families { get; set; }

    /// <summary>Addresses the agent freed because their pods were gone, over the NodeSubnet's life (the agent adds to what it finds).</summary>
    [JsonPropertyName("addressesReclaimed")] public long AddressesReclaimed { get; set; }

    /// <summary>The node's BGP sessions, when its routing has BGP peers.</summary>
    [JsonPropertyName("bgpPeers")] public IList<BgpPeerStatus>? BgpPeers { get; set; }

    /// <summary>"Established sessions/peers", e.g. "2/2", for kubectl's wide table.</summary>
    [JsonPropertyName("bgpSessions")] public string? BgpSessions { get; set; }
}

/// <summary>One block's addresses in use and capacity; <see cref="EmptySince"/> is when the agent first found it empty, absent while in use.</summary>
public sealed class BlockUsageStatus
{
    [JsonPropertyName("cidr")] public string Cidr { get; set; } = "";
    [JsonPropertyName("addressesInUse")] public int AddressesInUse { get; set; }
    [JsonPropertyName("addressCapacity")] public long AddressCapacity { get; set; }
    [JsonPropertyName("emptySince")] public DateTime? EmptySince { get; set; }

    /// <summary>The block is in spec.draining, closed in the node's IPAM store, and no address of it is in use: it may go.</summary>
    [JsonPropertyName("drained")] public bool Drained { get; set; }
}

/// <summary>One address family's addresses in use and capacity over all the node's blocks of it.</summary>
public sealed class FamilyUsageStatus
{
    /// <summary>The values of <see cref="Family"/>, as Trellis.Addressing.IpFamilyName spells them.</summary>
    public static readonly IReadOnlyList<string> All = ["IPv4", "IPv6"];

    /// <summary>IPv4 or IPv6.</summary>
    [JsonPropertyName("family")] public string Family { get; set; } = "";
    [JsonPropertyName("blocks")] public int Blocks { get; set; }
    [JsonPropertyName("addressesInUse")] public int AddressesInUse { get; set; }
    [JsonPropertyName("addressCapacity")] public long AddressCapacity { get; set; }
}
