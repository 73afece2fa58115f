using Trellis.Addressing;
using Trellis.Cni.Spec;
using Trellis.Netlink;

namespace Trellis.Cni.Wiring;

/// <summary>
/// The node's bridge, up and holding the gateway addresses, made by the code the agent makes it
/// with (<see cref="GatewayBridge"/>): an ADD may come before the agent's first pass, or with no
/// agent at all. Many plugins run at once on a busy node; a twin's bridge or address counts.
/// </summary>
public static class BridgeSetup
{
    public static Link Ensure(NetlinkHandle host, string name, int? mtu, IReadOnlyList<IpPrefix> gateways)
    {
        Link bridge;
        try
        {
            bridge = GatewayBridge.Ensure(host, name, mtu, out _);
        }
        catch (InvalidOperationException e)
        {
            throw new CniException(CniErrorCode.InvalidConfig, e.Message);
        }
        GatewayBridge.AddGateways(host, bridge, gateways);
        return bridge;
    }
}
