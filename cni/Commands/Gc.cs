using Trellis.Cni.Config;
using Trellis.Cni.Ipam;
using Trellis.Cni.Spec;
using Trellis.Cni.Wiring;
using Trellis.Netlink;

namespace Trellis.Cni.Commands;

/// <summary>
/// GC: frees every allocation whose attachment is not in cni.dev/valid-attachments, with its
/// host veth if one is left and marked as its own, and allocation files that hold no readable
/// record. Each allocation is freed only if it is unchanged since the listing and no plugin is
/// working on it (compare-and-hold), so GC is safe beside running ADDs and the agent's reclaim.
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

        using var store = Reservations.Io(() => Trellis.Ipam.AllocationStore.OpenExisting(config.Ipam.DataDir, config.Name));
        if (store is null) return;
        var valid = config.ValidAttachments.ToHashSet();
        var stale = Reservations.Io(store.List).Where(a => a.Owner is null || !valid.Contains(a.Owner)).ToList();
        if (stale.Count == 0) return;

        using var host = NetlinkHandle.Open();
        foreach (var allocation in stale)
        {
            if (allocation.Record is not { } record)
            {
                Reservations.Io(() => store.ReleaseUnreadable(allocation.Address));
                continue;
            }
            using var hold = Reservations.Io(() => store.TryHold(allocation));
            if (hold is null) continue;
            VethPair.DeleteHostEnds(host, record.Owner, () => null, record.IsLegacy);
            Reservations.Io(() => store.Release(hold));
        }
    }
}
