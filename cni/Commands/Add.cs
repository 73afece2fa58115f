using Trellis.Addressing;
using Trellis.Cni.Config;
using Trellis.Cni.Environment;
using Trellis.Cni.Ipam;
using Trellis.Cni.Spec;
using Trellis.Cni.Wiring;
using Trellis.Netlink;

namespace Trellis.Cni.Commands;

/// <summary>
/// ADD: reserve the pod's addresses first, then wire bridge, veth and pod interface. Any
/// failure after the reservation removes the veth and frees the addresses before reporting.
/// </summary>
public static class Add
{
    public static string Run(CniEnvironment env, NetworkConfig config)
    {
        if (config.Ipam.RangeSets.Count == 0)
            throw new CniException(CniErrorCode.InvalidConfig, $"network {config.Name}: ipam.ranges is empty, there is nothing to allocate from");
        var netnsPath = env.NetworkNamespace!;
        using var podNamespace = OpenNamespace(netnsPath);
        var owner = new Attachment(env.ContainerId, env.IfName);
        var hostName = VethPair.HostName(env.ContainerId, env.IfName);

        using var host = NetlinkHandle.Open();
        var reserved = Reservations.Reserve(config, owner);
        try
        {
            var gateways = reserved.Select(r => new IpPrefix(r.Range.Gateway, r.Range.Subnet.PrefixLength)).ToList();
            var bridge = BridgeSetup.Ensure(host, config.Bridge, config.Mtu, gateways);
            var hostEnd = VethPair.Create(host, hostName, env.IfName, podNamespace, config.Mtu, bridge);

            var podAddresses = reserved.Select(r => new PodAddress(r.Address, r.Range.Gateway)).ToList();
            using var pod = NetlinkHandle.OpenNamespace(netnsPath);
            var podLink = PodInterface.Configure(pod, netnsPath, env.IfName, podAddresses);

            var result = new CniResult(
                [
                    new ResultInterface(hostEnd.Name, MacText(hostEnd), null, null),
                    new ResultInterface(podLink.Name, MacText(podLink), podLink.Mtu, netnsPath),
                ],
                podAddresses.Select(a => new ResultIp(a.Address, a.Gateway, 1)).ToList(),
                podAddresses.Select(a => new ResultRoute(PodInterface.DefaultRouteOf(a.Address.Address.AddressFamily), a.Gateway)).ToList(),
                config.Dns);
            return ResultJson.Write(result, config.PrevResult, config.CniVersion);
        }
        catch
        {
            RollBack(host, hostName, config, owner);
            throw;
        }
    }

    /// <summary>
    /// Removes what a failed ADD made; a failure here must not hide the one that caused it. The
    /// addresses are kept when the veth could not be removed, since the pod end may still carry
    /// them: DEL or GC frees them once the link is gone.
    /// </summary>
    private static void RollBack(NetlinkHandle host, string hostName, NetworkConfig config, Attachment owner)
    {
        try
        {
            VethPair.DeleteHostEnd(host, hostName);
        }
        catch (NetlinkException e)
        {
            Console.Error.WriteLine($"trellis-cni: cleaning up after a failed ADD: {e.Message}; its addresses stay reserved until DEL");
            return;
        }
        try
        {
            Reservations.Release(config, owner);
        }
        catch (CniException e)
        {
            Console.Error.WriteLine($"trellis-cni: cleaning up after a failed ADD: {e.Message}");
        }
    }

    /// <summary>The MAC in the result's form: lower-case hex pairs joined by colons.</summary>
    private static string? MacText(Link link) =>
        link.HardwareAddress is null ? null : string.Join(':', link.HardwareAddress.GetAddressBytes().Select(b => b.ToString("x2")));

    private static NetworkNamespaceRef OpenNamespace(string path)
    {
        try
        {
            return NetworkNamespaceRef.Open(path);
        }
        catch (NetlinkException e)
        {
            throw new CniException(CniErrorCode.InvalidEnvironment, $"CNI_NETNS {path} cannot be opened", e.Message);
        }
    }
}
