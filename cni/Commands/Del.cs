using Trellis.Cni.Config;
using Trellis.Cni.Environment;
using Trellis.Cni.Ipam;
using Trellis.Cni.Spec;
using Trellis.Cni.Wiring;
using Trellis.Netlink;

namespace Trellis.Cni.Commands;

/// <summary>
/// DEL: remove the attachment's host veth (its pod end goes with it) and then free its
/// addresses, in that order so an address is never handed out while a link still carries it.
/// Only a link marked as the attachment's own is deleted. Succeeds for attachments it never
/// saw, a namespace already gone or unusable, and when run twice. CNI_NETNS, when usable, only
/// serves to recognise a host end an interrupted ADD made but did not get to mark.
/// </summary>
public static class Del
{
    public static void Run(CniEnvironment env, NetworkConfig config)
    {
        var owner = env.Attachment;
        using var claim = Reservations.ClaimExisting(config, owner);
        using (var host = NetlinkHandle.Open())
        {
            PodNamespace? podNamespace = null;
            NetlinkHandle? pod = null;
            try
            {
                NetlinkHandle? Pod()
                {
                    if (pod is not null || env.NetworkNamespace is null) return pod;
                    try
                    {
                        podNamespace ??= PodNamespace.Open(env.NetworkNamespace);
                        pod = podNamespace.Inside(NetlinkHandle.Open);
                    }
                    catch (CniException)
                    {
                        // Gone or not a namespace: there is nothing of the pod's to look at.
                    }
                    return pod;
                }

                VethPair.DeleteHostEnds(host, owner, Pod, claim.IsLegacy);
            }
            finally
            {
                pod?.Dispose();
                podNamespace?.Dispose();
            }
        }
        Reservations.Release(config, claim);
    }
}
