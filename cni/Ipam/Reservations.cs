using System.Net;
using Trellis.Addressing;
using Trellis.Cni.Config;
using Trellis.Cni.Spec;

namespace Trellis.Cni.Ipam;

/// <summary>An address reserved for a pod, with the range it came from.</summary>
public sealed record ReservedAddress(IpPrefix Address, AddressRange Range);

/// <summary>
/// Reserving and releasing a pod's addresses: the allocator's choice made durable in the
/// store, all under the store's lock.
/// </summary>
public static class Reservations
{
    /// <summary>
    /// One address per range set for <paramref name="owner"/>. An owner that already holds
    /// addresses (an ADD repeated, or retried after a crash) gets the same ones back.
    /// </summary>
    public static IReadOnlyList<ReservedAddress> Reserve(NetworkConfig config, Attachment owner)
    {
        using var store = AllocationStore.Open(config.Ipam.DataDir, config.Name);
        var held = store.FindByOwner(owner);
        var result = new List<ReservedAddress>();
        var reservedNow = new List<IPAddress>();
        try
        {
            for (int i = 0; i < config.Ipam.RangeSets.Count; i++)
            {
                var set = config.Ipam.RangeSets[i];
                var existing = held.FirstOrDefault(a => set.RangeOf(a) is AddressRange r && AddressAllocator.IsAssignable(r, a));
                if (existing is not null)
                {
                    result.Add(Reserved(set, existing));
                    continue;
                }
                var chosen = ReserveNext(store, set, i, owner)
                    ?? throw new CniException(CniErrorCode.TryAgainLater,
                        $"network {config.Name}: no free address in {set}, all {AddressAllocator.Capacity(set)} are in use",
                        $"allocations are recorded in {store.Directory}");
                reservedNow.Add(chosen);
                result.Add(Reserved(set, chosen));
            }
        }
        catch
        {
            // One address per family or none: a pod half-addressed is worse than a retry.
            foreach (var address in reservedNow) store.Release(address);
            throw;
        }
        return result;
    }

    private static IPAddress? ReserveNext(AllocationStore store, RangeSet set, int setIndex, Attachment owner)
    {
        var last = store.LastReserved(setIndex);
        while (AddressAllocator.Next(set, last, store.IsReserved) is IPAddress candidate)
        {
            if (store.TryReserve(candidate, owner))
            {
                store.SetLastReserved(setIndex, candidate);
                return candidate;
            }
            last = candidate;
        }
        return null;
    }

    /// <summary>Frees every address of <paramref name="owner"/>; nothing happens when the network has no store yet.</summary>
    public static IReadOnlyList<IPAddress> Release(NetworkConfig config, Attachment owner)
    {
        if (!Directory.Exists(Path.Combine(config.Ipam.DataDir, config.Name))) return [];
        using var store = AllocationStore.Open(config.Ipam.DataDir, config.Name);
        return store.ReleaseByOwner(owner);
    }

    /// <summary>The addresses <paramref name="owner"/> holds now.</summary>
    public static IReadOnlyList<IPAddress> HeldBy(NetworkConfig config, Attachment owner)
    {
        if (!Directory.Exists(Path.Combine(config.Ipam.DataDir, config.Name))) return [];
        using var store = AllocationStore.Open(config.Ipam.DataDir, config.Name);
        return store.FindByOwner(owner);
    }

    private static ReservedAddress Reserved(RangeSet set, IPAddress address)
    {
        var range = set.RangeOf(address)!;
        return new ReservedAddress(new IpPrefix(address, range.Subnet.PrefixLength), range);
    }
}
