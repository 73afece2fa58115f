using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace Trellis.Crds;

/// <summary>A cluster's pod address ranges, how they are cut into node blocks, and how nodes reach each other.</summary>
[KubernetesEntity(Group = TrellisApi.Group, ApiVersion = TrellisApi.Version, Kind = KindName, PluralName = Plural)]
public sealed class PodNetwork : IKubernetesObject<V1ObjectMeta>, ISpec<PodNetworkSpec>, IStatus<PodNetworkStatus?>
{
    public const string KindName = "PodNetwork";
    public const string Plural = "podnetworks";

    [JsonPropertyName("apiVersion")] public string ApiVersion { get; set; } = TrellisApi.ApiVersion;
    [JsonPropertyName("kind")] public string Kind { get; set; } = KindName;
    [JsonPropertyName("metadata")] public V1ObjectMeta Metadata { get; set; } = new();
    [JsonPropertyName("spec")] public PodNetworkSpec Spec { get; set; } = new();
    [JsonPropertyName("status")] public PodNetworkStatus? Status { get; set; }
}

public sealed class PodNetworkList : IKubernetesObject<V1ListMeta>, IItems<PodNetwork>
{
    [JsonPropertyName("apiVersion")] public string ApiVersion { get; set; } = TrellisApi.ApiVersion;
    [JsonPropertyName("kind")] public string Kind { get; set; } = PodNetwork.KindName + "List";
    [JsonPropertyName("metadata")] public V1ListMeta Metadata { get; set; } = new();
    [JsonPropertyName("items")] public IList<PodNetwork> Items { get; set; } = new List<PodNetwork>();
}

public sealed class PodNetworkSpec
{
    /// <summary>Pod ranges, IPv4 and/or IPv6. Append-only: a range may be added to grow the pool.</summary>
    [JsonPropertyName("cidrs")] public IList<string> Cidrs { get; set; } = new List<string>();

    /// <summary>Prefix length of a node's block, per family.</summary>
    [JsonPropertyName("blockSize")] public BlockSize BlockSize { get; set; } = new();

    /// <summary>Which nodes draw from this network; empty selects every node.</summary>
    [JsonPropertyName("nodeSelector")] public V1LabelSelector? NodeSelector { get; set; }

    [JsonPropertyName("routing")] public RoutingSpec Routing { get; set; } = new();

    /// <summary>Pod interface MTU; 0 derives it from the underlay minus encapsulation overhead.</summary>
    [JsonPropertyName("mtu")] public int Mtu { get; set; }

    /// <summary>Masquerade traffic from pods to destinations outside every PodNetwork.</summary>
    [JsonPropertyName("natOutgoing")] public bool NatOutgoing { get; set; } = true;

    /// <summary>Blocks a node may hold per family, its first included: a node that runs low gets another, up to this many.</summary>
    [JsonPropertyName("maxBlocksPerNode")] public int MaxBlocksPerNode { get; set; } = DefaultMaxBlocksPerNode;

    /// <summary>When a node gets another block, and when an extra block left empty goes back to the pool.</summary>
    [JsonPropertyName("blockGrowth")] public BlockGrowth BlockGrowth { get; set; } = new();

    public const int DefaultMaxBlocksPerNode = 4;
    public const int MostBlocksPerNode = 64;
}

/// <summary>
/// A family of a node grows by one block when its free addresses (over all its blocks of that family, as the
/// node's agent reports them) are fewer than <see cref="MinFreeAddresses"/> or fewer than
/// <see cref="MinFreePercent"/> percent of its capacity. A block other than the node's first of its family that
/// the agent has reported empty for <see cref="ReleaseEmptyAfterSeconds"/> goes back to the pool.
/// </summary>
public sealed class BlockGrowth
{
    public const int DefaultMinFreeAddresses = 4;
    public const int DefaultMinFreePercent = 10;
    public const int DefaultReleaseEmptyAfterSeconds = 600;
    public const int MostMinFreeAddresses = 65_536;
    public const int LongestReleaseEmptyAfterSeconds = 2_592_000;

    [JsonPropertyName("minFreeAddresses")] public int MinFreeAddresses { get; set; } = DefaultMinFreeAddresses;
    [JsonPropertyName("minFreePercent")] public int MinFreePercent { get; set; } = DefaultMinFreePercent;
    [JsonPropertyName("releaseEmptyAfterSeconds")] public int ReleaseEmptyAfterSeconds { get; set; } = DefaultReleaseEmptyAfterSeconds;
}

public sealed class BlockSize
{
    public const int DefaultIPv4 = 24;
    public const int DefaultIPv6 = 80;

    [JsonPropertyName("ipv4")] public int IPv4 { get; set; } = DefaultIPv4;
    [JsonPropertyName("ipv6")] public int IPv6 { get; set; } = DefaultIPv6;
}

public sealed class RoutingSpec
{
    /// <summary>One of <see cref="RoutingModes"/>.</summary>
    [JsonPropertyName("mode")] public string Mode { get; set; } = RoutingModes.Auto;

    [JsonPropertyName("vxlan")] public VxlanSpec Vxlan { get; set; } = new();

    /// <summary>BGP announcements of each node's blocks; required by mode BGP.</summary>
    [JsonPropertyName("bgp")] public BgpSpec? Bgp { get; set; }
}

public sealed class VxlanSpec
{
    public const int DefaultVni = 4096;
    public const int DefaultPort = 4789;

    [JsonPropertyName("vni")] public int Vni { get; set; } = DefaultVni;
    [JsonPropertyName("port")] public int Port { get; set; } = DefaultPort;
}

public sealed class PodNetworkStatus
{
    [JsonPropertyName("observedGeneration")] public long? ObservedGeneration { get; set; }
    [JsonPropertyName("conditions")] public IList<V1Condition> Conditions { get; set; } = new List<V1Condition>();

    /// <summary>Blocks given to nodes.</summary>
    [JsonPropertyName("blocksAllocated")] public long BlocksAllocated { get; set; }

    /// <summary>Blocks the ranges hold in all (saturating at long.MaxValue for huge IPv6 ranges).</summary>
    [JsonPropertyName("blocksTotal")] public long BlocksTotal { get; set; }

    /// <summary>Nodes with a NodeSubnet from this network.</summary>
    [JsonPropertyName("nodes")] public int Nodes { get; set; }
}
