using System.Net.Sockets;
using Trellis.Addressing;
using Trellis.Cni.Spec;
using Trellis.Netlink;

namespace Trellis.Cni.Wiring;

/// <summary>
/// Makes the node's bridge exist, be up and hold the gateway addresses. Many plugins run at
/// once on a busy node, so "already exists" from a concurrent twin counts as success.
/// </summary>
public static class BridgeSetup
{
    public static Link Ensure(NetlinkHandle host, string name, int? mtu, IReadOnlyList<IpPrefix> gateways)
    {
        var bridge = host.FindLink(name);
        if (bridge is null)
        {
            try
            {
                host.AddBridge(name, mtu);
            }
            catch (NetlinkException e) when (e.IsAlreadyExists)
            {
            }
            bridge = host.GetLink(name);
        }
        if (bridge.Kind != "bridge")
            throw new CniException(CniErrorCode.InvalidConfig,
                $"bridge {name}: a link of that name exists but is a {(bridge.Kind.Length == 0 ? "device without link kind" : bridge.Kind)}, not a bridge");
        if (!bridge.IsUp) host.SetLinkUp(bridge);

        // Adding and taking "already there" as success costs one request; listing first would dump
        // every address of the node, which grows with its pods.
        foreach (var gateway in gateways)
        {
            if (gateway.Address.AddressFamily == AddressFamily.InterNetworkV6)
                // Pods use the gateway at once; duplicate address detection would hold it back for seconds.
                Sysctl.Write($"net/ipv6/conf/{name}/accept_dad", "0");
            try
            {
                host.AddAddress(bridge, gateway);
            }
            catch (NetlinkException e) when (e.IsAlreadyExists)
            {
            }
        }
        return bridge;
    }
}
