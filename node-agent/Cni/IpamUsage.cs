using System.Net;
using Trellis.Addressing;
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

    /// <summary>
    /// Closes the node's draining blocks in its store, under the store's lock, so no plugin takes a new address in
    /// them, whatever configuration it was given. A block closed once stays closed until it is an open block of
    /// this node again: one the operator took away may be another node's now, and a runtime may still hold a
    /// configuration that lists it. Nothing happens when there is nothing to close and no store yet.
    /// </summary>
    public static void CloseDraining(string ipamDataDir, IReadOnlyList<Block> ownBlocks)
    {
        var draining = ownBlocks.Where(b => b.Draining).Select(b => b.Cidr).ToList();
        using var store = draining.Count > 0
            ? AllocationStore.Open(ipamDataDir, NodeContract.NetworkName)
            : AllocationStore.OpenExisting(ipamDataDir, NodeContract.NetworkName);
        if (store is null) return;
        var open = ownBlocks.Where(b => !b.Draining).Select(b => b.Cidr).ToList();
        var closed = store.ClosedBlocks().Where(b => !open.Any(b.Overlaps)).Union(draining).ToList();
        store.CloseBlocks(closed);
    }

    /// <summary>Every address the store holds, in a stable text form: two equal snapshots mean nothing was allocated or freed in between that lasted.</summary>
    public static string Snapshot(string ipamDataDir) =>
        string.Join(",", Allocated(ipamDataDir).Select(address => address.ToString()).Order(StringComparer.Ordinal));

    private static IReadOnlyList<IPAddress> Allocated(string ipamDataDir) =>
        AllocationStore.AllocatedAddresses(ipamDataDir, NodeContract.NetworkName);
}
