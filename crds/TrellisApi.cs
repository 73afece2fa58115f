namespace Trellis.Crds;

/// <summary>Names of the trellis.io API, in one place.</summary>
public static class TrellisApi
{
    public const string Group = "trellis.io";
    public const string Version = "v1alpha1";
    public const string ApiVersion = Group + "/" + Version;

    /// <summary>Label on a NodeSubnet naming its PodNetwork, for selecting one network's subnets.</summary>
    public const string PodNetworkLabel = "trellis.io/podnetwork";

    /// <summary>Label on a NodeSubnet naming its node.</summary>
    public const string NodeLabel = "trellis.io/node";
}

/// <summary>How traffic between nodes is carried.</summary>
public static class RoutingModes
{
    /// <summary>Routes to peer blocks via peer node addresses; peers must share an L2 segment.</summary>
    public const string Direct = "Direct";

    /// <summary>A VXLAN overlay to every peer.</summary>
    public const string Vxlan = "VXLAN";

    /// <summary>Direct to peers on the same underlay subnet, VXLAN to the rest.</summary>
    public const string Auto = "Auto";

    public static readonly IReadOnlyList<string> All = [Direct, Vxlan, Auto];
}

/// <summary>Condition types and reasons Trellis writes.</summary>
public static class Conditions
{
    public const string Ready = "Ready";
    public const string Valid = "Valid";
    public const string Programmed = "Programmed";

    public const string ReasonPoolExhausted = "PoolExhausted";
    public const string ReasonNodesNotServed = "NodesNotServed";
    public const string ReasonAllocated = "Allocated";
}
