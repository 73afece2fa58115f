using System.Net;
using System.Net.Sockets;
using Trellis.Addressing;
using Trellis.Netlink;

namespace Trellis.Cni.Wiring;

/// <summary>An address for the pod and the gateway its default route goes through.</summary>
public sealed record PodAddress(IpPrefix Address, IPAddress Gateway);

/// <summary>The pod's side of the veth: addresses, default routes, up.</summary>
public static class PodInterface
{
    private static readonly Cidr DefaultIPv4 = Cidr.Parse("0.0.0.0/0");
    private static readonly Cidr DefaultIPv6 = Cidr.Parse("::/0");

    public static Cidr DefaultRouteOf(AddressFamily family) => family == AddressFamily.InterNetworkV6 ? DefaultIPv6 : DefaultIPv4;

    /// <summary>
    /// Configures <paramref name="ifName"/> inside <paramref name="pod"/>; returns the link for its
    /// name, MAC and MTU. IPv6 duplicate address detection must already be off on it.
    /// </summary>
    public static Link Configure(NetlinkHandle pod, string ifName, IReadOnlyList<PodAddress> addresses)
    {
        var link = pod.GetLink(ifName);
        if (pod.FindLink("lo") is Link lo && !lo.IsUp) pod.SetLinkUp(lo);
        pod.SetLinkUp(link);
        foreach (var address in addresses) pod.AddAddress(link, address.Address);
        foreach (var address in addresses)
            pod.AddRoute(new Route
            {
                Destination = DefaultRouteOf(address.Address.Address.AddressFamily),
                Gateway = address.Gateway,
            }, link);
        return link;
    }

    /// <summary>What is wrong with the pod's interface compared to <paramref name="expected"/>; null when nothing is.</summary>
    public static string? Problem(NetlinkHandle pod, string netnsPath, string ifName, IReadOnlyList<PodAddress> expected)
    {
        if (pod.FindLink(ifName) is not Link link) return $"interface {ifName} is missing from {netnsPath}";
        if (!link.IsUp) return $"interface {ifName} in {netnsPath} is down";
        var present = pod.ListAddresses(link).Select(a => a.Prefix).ToHashSet();
        foreach (var address in expected)
            if (!present.Contains(address.Address))
                return $"address {address.Address} is missing from {ifName} in {netnsPath}";
        foreach (var family in expected.Select(a => a.Address.Address.AddressFamily).Distinct())
        {
            var routes = pod.ListRoutes(family);
            foreach (var address in expected.Where(a => a.Address.Address.AddressFamily == family))
                if (!routes.Any(r => r.Destination == DefaultRouteOf(family) && address.Gateway.Equals(r.Gateway) && r.OutputLinkIndex == link.Index))
                    return $"default route via {address.Gateway} dev {ifName} is missing from {netnsPath}";
        }
        return null;
    }
}
