using Trellis.Cni.Config;
using Trellis.Cni.Ipam;
using Trellis.Cni.Spec;
using Trellis.Ipam;

namespace Trellis.Cni.Commands;

/// <summary>STATUS: ready when every configured range set still has a free address (read without the store's lock).</summary>
public static class Status
{
    public static void Run(NetworkConfig config)
    {
        if (!config.CniVersion.AllowsStatusAndGc)
            throw new CniException(CniErrorCode.IncompatibleVersion, $"STATUS needs cniVersion 1.1.0 or later, the configuration has {config.CniVersion}");
        if (config.Ipam.RangeSets.Count == 0)
            throw new CniException(CniErrorCode.PluginNotAvailable, $"network {config.Name}: no address ranges are configured");

        var taken = Reservations.Io(() => AllocationStore.AllocatedAddresses(config.Ipam.DataDir, config.Name)).ToHashSet();
        foreach (var set in config.Ipam.RangeSets)
            if (AddressAllocator.Next(set, null, taken.Contains) is null)
                throw new CniException(CniErrorCode.PluginNotAvailable,
                    $"network {config.Name}: range set {set} is exhausted, all {AddressAllocator.Capacity(set)} addresses are in use");
    }
}
