using System.Net.Sockets;
using Trellis.Addressing;
using Trellis.Cni.Config;
using Trellis.Cni.Environment;
using Trellis.Cni.Ipam;
using Trellis.Cni.Spec;
using Trellis.Cni.Wiring;
using Trellis.Netlink;

namespace Trellis.Cni.Commands;

/// <summary>
/// ADD: check the pod's namespace, reserve the pod's addresses (recording the pod), then wire
/// bridge, veth and pod interface. The attachment's records stay
/// held until the end, so a twin ADD waits for this one. Any failure after the reservation
/// removes the veth and frees the addresses before reporting.
/// </summary>
public static class Add
{
    public static string Run(CniEnvironment env, NetworkConfig config)
    {
        if (config.Ipam.RangeSets.Count == 0)
            throw new CniException(CniErrorCode.InvalidConfig, $"network {config.Name}: ipam.ranges is empty, there is nothing to allocate from");
        using var podNamespace = PodNamespace.Open(env.NetworkNamespace!);
        var owner = env.Attachment;

        using var host = NetlinkHandle.Open();
        using var pod = podNamespace.Inside(NetlinkHandle.Open);
        using var claim = Reservations.Claim(config, owner, env.Pod);
        try
        {
            var hostName = VethPair.ChooseHostName(host, owner, pod);
            var gateways = claim.Reserved.Select(r => new IpPrefix(r.Range.Gateway, r.Range.Subnet.PrefixLength)).ToList();
            var bridge = BridgeSetup.Ensure(host, config.Bridge, config.Mtu, gateways);
            var hostEnd = VethPair.Create(host, hostName, owner, podNamespace.Ref, pod, config.Mtu, bridge);

            var podAddresses = claim.Reserved.Select(r => new PodAddress(r.Address, r.Range.Gateway)).ToList();
            if (podAddresses.Any(a => a.Address.Address.AddressFamily == AddressFamily.InterNetworkV6))
                // The address must answer at once; duplicate address detection would keep it tentative for seconds.
                podNamespace.Inside(() => Sysctl.Write($"net/ipv6/conf/{env.IfName}/accept_dad", "0"));
            var podLink = PodInterface.Configure(pod, env.IfName, podAddresses);

            var result = new CniResult(
                [
                    new ResultInterface(hostEnd.Name, MacText(hostEnd), null, null),
                    new ResultInterface(podLink.Name, MacText(podLink), podLink.Mtu, podNamespace.Path),
                ],
                podAddresses.Select(a => new ResultIp(a.Address, a.Gateway, 1)).ToList(),
                podAddresses.Select(a => new ResultRoute(PodInterface.DefaultRouteOf(a.Address.Address.AddressFamily), a.Gateway)).ToList(),
                config.Dns);
            return ResultJson.Write(result, config.PrevResult, config.CniVersion);
        }
        catch
        {
            RollBack(host, pod, config, claim);
            throw;
        }
    }

    /// <summary>
    /// Removes what a failed ADD made; a failure here must not hide the one that caused it. The
    /// addresses are kept when the veth could not be removed, since the pod end may still carry
    /// them: DEL or GC frees them once the link is gone.
    /// </summary>
    private static void RollBack(NetlinkHandle host, NetlinkHandle pod, NetworkConfig config, AttachmentClaim claim)
    {
        try
        {
            VethPair.DeleteHostEnds(host, claim.Owner, () => pod, claim.IsLegacy);
        }
        catch (NetlinkException e)
        {
            Console.Error.WriteLine($"trellis-cni: cleaning up after a failed ADD: {e.Message}; its addresses stay reserved until DEL");
            return;
        }
        try
        {
            Reservations.Release(config, claim);
        }
        catch (CniException e)
        {
            Console.Error.WriteLine($"trellis-cni: cleaning up after a failed ADD: {e.Message}");
        }
    }

    /// <summary>The MAC in the result's form: lower-case hex pairs joined by colons.</summary>
    private static string? MacText(Link link) =>
        link.HardwareAddress is null ? null : string.Join(':', link.HardwareAddress.GetAddressBytes().Select(b => b.ToString("x2")));
}
