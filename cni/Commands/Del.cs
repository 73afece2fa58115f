using Trellis.Cni.Config;
using Trellis.Cni.Environment;
using Trellis.Cni.Ipam;
using Trellis.Cni.Wiring;
using Trellis.Netlink;

namespace Trellis.Cni.Commands;

/// <summary>
/// DEL: remove the host end of the veth (its pod end goes with it) and then free the addresses,
/// in that order so an address is never handed out while a link still carries it. Succeeds
/// for attachments it never saw, a namespace already gone, and when run twice.
/// </summary>
public static class Del
{
    public static void Run(CniEnvironment env, NetworkConfig config)
    {
        using (var host = NetlinkHandle.Open())
            VethPair.DeleteHostEnd(host, VethPair.HostName(env.ContainerId, env.IfName));
        Reservations.Release(config, new Attachment(env.ContainerId, env.IfName));
    }
}
