using Trellis.NodeAgent.Planning;

namespace Trellis.NodeAgent.Reconciling;

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
