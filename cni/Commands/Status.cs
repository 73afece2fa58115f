using Trellis.Cni.Config;
using Trellis.Cni.Ipam;
using Trellis.Cni.Spec;

namespace Trellis.Cni.Commands;

/// <summary>STATUS: ready when every configured range set still has a free address.</summary>
public static class Status
{
    public static void Run(NetworkConfig config)
    {
        if (!config.CniVersion.AllowsStatusAndGc)
            throw new CniException(CniErrorCode.IncompatibleVersion, $"STATUS needs cniVersion 1.1.0 or later, the configuration has {config.CniVersion}");
        if (config.Ipam.RangeSets.Count == 0)
            throw new CniException(CniErrorCode.PluginNotAvailable, $"network {config.Name}: no address ranges are configured");
        if (!Directory.Exists(Path.Combine(config.Ipam.DataDir, config.Name))) return;

        using var store = AllocationStore.Open(config.Ipam.DataDir, config.Name);
        for (int i = 0; i < config.Ipam.RangeSets.Count; i++)
        {
            var set = config.Ipam.RangeSets[i];
            if (AddressAllocator.Next(set, store.LastReserved(i), store.IsReserved) is null)
                throw new CniException(CniErrorCode.PluginNotAvailable,
                    $"network {config.Name}: range set {set} is exhausted, all {AddressAllocator.Capacity(set)} addresses are in use");
        }
    }
}
