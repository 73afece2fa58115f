namespace Trellis.NetworkPolicy.Ruleset;

public enum SetKind
{
    /// <summary>Addresses and address ranges (an interval set).</summary>
    Addresses,

    /// <summary>Protocol and port ranges (an interval set of concatenations).</summary>
    Ports,

    /// <summary>Address, protocol and port of named ports resolved on pods.</summary>
    NamedPorts,

    /// <summary>A verdict map from a pod address to the chain that judges it.</summary>
    Dispatch,
}

/// <summary>A named set or verdict map; its elements change with pods, its declaration only with policies.</summary>
public sealed record NftSet(string Name, SetKind Kind, IpFamily Family, IReadOnlyList<NftElement> Elements, string? Comment = null)
{
    /// <summary>The body of the declaration without elements: "type ipv4_addr; flags interval;".</summary>
    public string Declaration => Kind switch
    {
        SetKind.Addresses => $"type {Family.AddressType()}; flags interval;",
        SetKind.Ports => "type inet_proto . inet_service; flags interval;",
        SetKind.NamedPorts => $"type {Family.AddressType()} . inet_proto . inet_service;",
        _ => $"type {Family.AddressType()} : verdict;",
    };

    public bool IsMap => Kind == SetKind.Dispatch;
}
