using System.Net;
using Trellis.Ipam;
using Trellis.NodeAgent.Planning;

namespace Trellis.NodeAgent.Cni;

/// <summary>Addresses in use in the node's blocks, as the plugin's allocation store records them (read without its lock).</summary>
public static class IpamUsage
{
    /// <summary>Addresses in use in each block, in the order of <paramref name="blocks"/>.</summary>
    public static IReadOnlyList<int> InUseByBlock(string ipamDataDir, IReadOnlyList<Block> blocks)
    {
        var addresses = Allocated(ipamDataDir);
        return blocks.Select(block => addresses.Count(block.Cidr.Contains)).ToList();
    }

    /// <summary>Every address the store holds, in a stable text form: two equal snapshots mean nothing was allocated or freed in between that lasted.</summary>
    public static string Snapshot(string ipamDataDir) =>
        string.Join(",", Allocated(ipamDataDir).Select(address => address.ToString()).Order(StringComparer.Ordinal));

    private static IReadOnlyList<IPAddress> Allocated(string ipamDataDir) =>
        AllocationStore.AllocatedAddresses(ipamDataDir, NodeContract.NetworkName);
}
