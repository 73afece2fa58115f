using Trellis.Ipam;
using Trellis.NodeAgent.Planning;

namespace Trellis.NodeAgent.Cni;

/// <summary>Addresses in use in the node's blocks, as the plugin's allocation store records them (read without its lock).</summary>
public static class IpamUsage
{
    public static int CountInUse(string ipamDataDir, IReadOnlyList<Block> blocks) =>
        AllocationStore.AllocatedAddresses(ipamDataDir, NodeContract.NetworkName).Count(address => blocks.Any(b => b.Cidr.Contains(address)));
}
