using Trellis.Cni.Config;
using Trellis.Cni.Ipam;
using Trellis.Cni.Spec;
using Trellis.Cni.Wiring;
using Trellis.Netlink;

namespace Trellis.Cni.Commands;

/// <summary>
/// GC: frees every allocation whose attachment is not in cni.dev/valid-attachments, with its
/// host veth if one is left, and reservations a crash left without an owner.
/// </summary>
public static class Gc
{
    public static void Run(NetworkConfig config)
    {
        if (!config.CniVersion.AllowsStatusAndGc)
            throw new CniException(CniErrorCode.IncompatibleVersion, $"GC needs cniVersion 1.1.0 or later, the configuration has {config.CniVersion}");
        // Without the list every allocation would look stale; freeing them all on a malformed call is worse than refusing it.
        if (config.ValidAttachments is null)
            throw new CniException(CniErrorCode.InvalidConfig, $"network {config.Name}: GC needs cni.dev/valid-attachments");
        if (!Directory.Exists(Path.Combine(config.Ipam.DataDir, config.Name))) return;

        var valid = config.ValidAttachments.ToHashSet();
        using var store = AllocationStore.Open(config.Ipam.DataDir, config.Name);
        var stale = store.List().Where(entry => entry.Owner is null || !valid.Contains(entry.Owner)).ToList();
        if (stale.Count == 0) return;

        using var host = NetlinkHandle.Open();
        foreach (var (address, owner) in stale)
        {
            if (owner is not null) VethPair.DeleteHostEnd(host, VethPair.HostName(owner.ContainerId, owner.IfName));
            store.Release(address);
        }
    }
}
