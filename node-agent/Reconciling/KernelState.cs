using Trellis.Addressing;
using System.Net;
using Trellis.NodeAgent.Planning;

namespace Trellis.NodeAgent.Reconciling;

/// <summary>The routing protocol number Trellis stamps on every route it adds; routes without it are never touched.</summary>
public static class TrellisProtocol
{
    public const byte Number = 148;
}

/// <summary>A route as the kernel holds it, reduced to what Trellis compares.</summary>
public sealed record KernelRoute(Cidr Destination, IPAddress? Gateway, int LinkIndex, bool OnLink, byte Protocol)
{
    public bool IsTrellis => Protocol == TrellisProtocol.Number;

    public override string ToString() =>
        $"{Destination}{(Gateway is null ? "" : $" via {Gateway}")} dev #{LinkIndex}{(OnLink ? " onlink" : "")} proto {Protocol}";
}

/// <summary>A forwarding entry on the vxlan device: frames for <see cref="Mac"/> go to <see cref="Destination"/>.</summary>
public sealed record KernelFdb(MacAddress Mac, IPAddress? Destination);

/// <summary>A neighbour entry on the vxlan device.</summary>
public sealed record KernelNeighbor(IPAddress Address, MacAddress? Mac, bool Permanent, byte Protocol)
{
    /// <summary>Only entries carrying Trellis's protocol are Trellis's; a permanent entry without it was added by someone else.</summary>
    public bool IsTrellis => Protocol == TrellisProtocol.Number;
}

/// <summary>Turns planned routes into kernel routes once the link indices are known.</summary>
public static class RouteResolution
{
    public static IReadOnlyList<KernelRoute> Resolve(IReadOnlyList<PlannedRoute> routes, int underlayIndex, int? vxlanIndex) =>
        routes.Select(r => r.Link == RouteLink.Underlay
                ? new KernelRoute(r.Destination, r.Gateway, underlayIndex, false, TrellisProtocol.Number)
                : new KernelRoute(r.Destination, r.Gateway,
                    vxlanIndex ?? throw new InvalidOperationException($"route {r.Destination} needs the vxlan device, which does not exist"),
                    true, TrellisProtocol.Number))
            .ToList();
}
