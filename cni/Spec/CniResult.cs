using System.Net;
using Trellis.Addressing;

namespace Trellis.Cni.Spec;

/// <summary>One interface of a result; <see cref="Sandbox"/> is set for interfaces inside the pod.</summary>
public sealed record ResultInterface(string Name, string? Mac, int? Mtu, string? Sandbox);

/// <summary>An address of a result; <see cref="Interface"/> indexes <see cref="CniResult.Interfaces"/>.</summary>
public sealed record ResultIp(IpPrefix Address, IPAddress? Gateway, int? Interface);

public sealed record ResultRoute(Cidr Destination, IPAddress? Gateway);

public sealed record DnsSettings(IReadOnlyList<string> Nameservers, string? Domain, IReadOnlyList<string> Search, IReadOnlyList<string> Options)
{
    public static DnsSettings Empty { get; } = new([], null, [], []);

    public bool IsEmpty => Nameservers.Count == 0 && Domain is null && Search.Count == 0 && Options.Count == 0;
}

/// <summary>What ADD returns, in the version-independent form of spec 1.x.</summary>
public sealed record CniResult(
    IReadOnlyList<ResultInterface> Interfaces,
    IReadOnlyList<ResultIp> Ips,
    IReadOnlyList<ResultRoute> Routes,
    DnsSettings Dns);
