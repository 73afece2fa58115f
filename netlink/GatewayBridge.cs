using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Security.Cryptography;
using Trellis.Addressing;

namespace Trellis.Netlink;

/// <summary>
/// A bridge that is the gateway of the links attached to it. trellis-agent makes a node's pod
/// bridge with it on every pass; trellis-cni makes it when a pod's ADD comes before the agent's
/// first pass, or runs with no agent at all. One code, so both makers agree on what a ready bridge
/// is. Only the agent changes an existing bridge (its MTU) or takes a gateway away: it alone knows
/// the node's blocks. Sysctls resolve in the calling thread's namespace, as <see cref="Sysctl"/> says.
/// </summary>
public static class GatewayBridge
{
    /// <summary>
    /// The bridge called <paramref name="name"/>, up; made with <paramref name="mtu"/> and a MAC of its own when absent.
    /// A bridge whose MAC is not set takes the lowest MAC of its ports, so it changes as pods come and go; every
    /// pod holds the old one as its gateway's in its neighbour cache and talks to nobody until that entry expires.
    /// A bridge a concurrent maker made in between counts (<paramref name="created"/> is then false).
    /// Throws <see cref="InvalidOperationException"/> when a link of another kind holds the name: it is not ours to replace.
    /// </summary>
    public static Link Ensure(NetlinkHandle handle, string name, int? mtu, out bool created)
    {
        ArgumentNullException.ThrowIfNull(handle);
        created = false;
        var bridge = handle.FindLink(name);
        if (bridge is null)
        {
            try
            {
                handle.AddBridge(name, mtu, RandomLocalMac());
                created = true;
            }
            catch (NetlinkException e) when (e.IsAlreadyExists)
            {
            }
            bridge = handle.GetLink(name);
        }
        if (bridge.Kind != "bridge")
            throw new InvalidOperationException(
                $"bridge {name}: a link of that name exists but is a {(bridge.Kind.Length == 0 ? "device without link kind" : bridge.Kind)}, not a bridge");
        if (!bridge.IsUp) handle.SetLinkUp(bridge);
        return bridge;
    }

    /// <summary>
    /// Makes the bridge keep the MAC it has now, whatever ports come and go: setting a link's MAC, even to
    /// the one it has, marks it chosen by the user, and the kernel no longer picks one from the ports. For a
    /// bridge an older Trellis or another tool made without one; a no-op on a bridge <see cref="Ensure"/> made.
    /// </summary>
    public static void PinHardwareAddress(NetlinkHandle handle, Link bridge)
    {
        ArgumentNullException.ThrowIfNull(handle);
        ArgumentNullException.ThrowIfNull(bridge);
        if (bridge.HardwareAddress is { } mac) handle.SetHardwareAddress(bridge, mac);
    }

    /// <summary>A random unicast MAC in the locally administered space (first octet xxxxxx10), as the kernel's own random ones.</summary>
    private static PhysicalAddress RandomLocalMac()
    {
        var bytes = RandomNumberGenerator.GetBytes(6);
        bytes[0] = (byte)((bytes[0] & 0xFE) | 0x02);
        return new PhysicalAddress(bytes);
    }

    /// <summary>
    /// Puts each gateway on <paramref name="bridge"/>; one already there counts (a concurrent
    /// plugin put it there). Adding and taking "already there" as success costs one request, where
    /// listing first would dump every address of the node, which grows with its pods.
    /// </summary>
    public static void AddGateways(NetlinkHandle handle, Link bridge, IEnumerable<IpPrefix> gateways)
    {
        ArgumentNullException.ThrowIfNull(handle);
        ArgumentNullException.ThrowIfNull(bridge);
        foreach (var gateway in gateways)
        {
            if (gateway.Address.AddressFamily == AddressFamily.InterNetworkV6)
                TurnOffDuplicateAddressDetection(bridge.Name);
            try
            {
                handle.AddAddress(bridge, gateway);
            }
            catch (NetlinkException e) when (e.IsAlreadyExists)
            {
            }
        }
    }

    /// <summary>Pods use the gateway at once; duplicate address detection would hold an IPv6 one back for seconds.</summary>
    private static void TurnOffDuplicateAddressDetection(string bridge)
    {
        var key = $"net/ipv6/conf/{bridge}/accept_dad";
        if (Sysctl.Read(key) != "0") Sysctl.Write(key, "0");
    }
}
