using System.Net.NetworkInformation;
using Trellis.Netlink;
using Trellis.NodeAgent.Planning;
using Trellis.NodeAgent.Reconciling;

namespace Trellis.NodeAgent.Kernel;

/// <summary>Between the netlink library's records and the agent's reduced kernel view.</summary>
internal static class KernelConversions
{
    public static KernelRoute ToKernel(Route route) =>
        new(route.Destination, route.Gateway, route.OutputLinkIndex ?? 0, route.OnLink, route.Protocol);

    public static Route ToNetlink(KernelRoute route) => new()
    {
        Destination = route.Destination,
        Gateway = route.Gateway,
        OutputLinkIndex = route.LinkIndex,
        OnLink = route.OnLink,
        Protocol = route.Protocol,
        Table = RouteTables.Main,
    };

    public static PhysicalAddress ToPhysical(MacAddress mac) => new(mac.ToBytes());

    public static MacAddress? ToMac(PhysicalAddress? address)
    {
        var bytes = address?.GetAddressBytes();
        return bytes is { Length: 6 } ? MacAddress.FromBytes(bytes) : null;
    }

    public static KernelNeighbor ToKernel(Neighbor neighbor) =>
        new(neighbor.Address, ToMac(neighbor.HardwareAddress), neighbor.State.HasFlag(NeighborState.Permanent), neighbor.Protocol ?? 0);
}
