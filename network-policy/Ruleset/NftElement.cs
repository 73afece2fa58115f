using System.Net;
using Trellis.NetworkPolicy.Addresses;
using Trellis.NetworkPolicy.Facts;

namespace Trellis.NetworkPolicy.Ruleset;

/// <summary>One element of a set or map; <see cref="ToString"/> is its nftables spelling.</summary>
public abstract record NftElement;

/// <summary>An address or an address range, in an interval set of addresses.</summary>
public sealed record AddressElement(AddressRange Range) : NftElement
{
    public override string ToString() => Range.ToString();
}

/// <summary>"tcp . 80" or "udp . 1000-2000", in an interval set of protocol and port.</summary>
public sealed record PortElement(TransportProtocol Protocol, int First, int Last) : NftElement
{
    public override string ToString() => First == Last ? $"{Protocol.NftName()} . {First}" : $"{Protocol.NftName()} . {First}-{Last}";
}

/// <summary>"10.244.1.5 . tcp . 8080": a named port resolved on one pod address.</summary>
public sealed record NamedPortElement(IPAddress Address, TransportProtocol Protocol, int Port) : NftElement
{
    public override string ToString() => $"{Address} . {Protocol.NftName()} . {Port}";
}

/// <summary>"10.244.1.5 : jump in.group.…": where a pod's packets are judged.</summary>
public sealed record DispatchElement(IPAddress Address, string Chain) : NftElement
{
    public override string ToString() => $"{Address} : jump {Chain}";
}
