using System.Net;
using Trellis.Addressing;
using Trellis.Cni.Config;
using Trellis.Cni.Spec;
using Trellis.Ipam;

namespace Trellis.Cni.Ipam;

/// <summary>An address reserved for a pod, with the range it came from.</summary>
public sealed record ReservedAddress(IpPrefix Address, AddressRange Range);

/// <summary>
/// An attachment's allocations, held (<see cref="AllocationHold"/>) for as long as one ADD or
/// DEL works on them: a twin invocation of the same attachment waits until this one is done,
/// and GC or the agent's reclaim leave them alone meanwhile.
/// </summary>
public sealed class AttachmentClaim(Attachment owner, AllocationHold hold, bool legacy, IReadOnlyList<ReservedAddress> reserved) : IDisposable
{
    public Attachment Owner { get; } = owner;

    /// <summary>The records were written by the format-0 plugin, which did not mark its links.</summary>
    public bool IsLegacy { get; } = legacy;

    /// <summary>For ADD: one address per range set, in configuration order.</summary>
    public IReadOnlyList<ReservedAddress> Reserved { get; } = reserved;

    public IReadOnlyList<Allocation> Allocations => Hold.Allocations;

    internal AllocationHold Hold { get; } = hold;

    public void Dispose() => Hold.Dispose();
}

/// <summary>
/// Reserving and releasing a pod's addresses: the allocator's choice made durable in the
/// store. The store's lock is held only while choosing and writing; the attachment's records
/// stay held for the whole ADD or DEL.
/// </summary>
public static class Reservations
{
    /// <summary>
    /// One address per range set for <paramref name="owner"/>, recorded with <paramref name="pod"/>.
    /// An owner that already holds addresses (an ADD repeated, or retried after a crash) gets the
    /// same ones back.
    /// </summary>
    public static AttachmentClaim Claim(NetworkConfig config, Attachment owner, PodIdentity? pod)
    {
        while (true)
        {
            using var store = Open(config);
            var allocations = List(store);
            var hold = HoldOrWait(store, owner, allocations);
            if (hold is null) continue;

            var newlyReserved = new List<IPAddress>();
            try
            {
                var held = hold.Allocations;
                var record = new AllocationRecord(owner, pod, DateTimeOffset.UtcNow);
                var taken = allocations.Select(a => a.Address).ToHashSet();
                // Blocks the agent is taking away from the node: never a new address there, whatever range the configuration lists.
                var closed = Io(store.ClosedBlocks);
                var result = new List<ReservedAddress>();
                for (int i = 0; i < config.Ipam.RangeSets.Count; i++)
                {
                    var set = config.Ipam.RangeSets[i];
                    var existing = held.Select(a => a.Address).FirstOrDefault(a => set.RangeOf(a) is AddressRange r && AddressAllocator.IsAssignable(r, a));
                    if (existing is not null)
                    {
                        result.Add(Reserved(set, existing));
                        continue;
                    }
                    var candidates = AddressAllocator.Candidates(set, LastReserved(store, i)).Where(a => !taken.Contains(a) && !closed.Any(b => b.Contains(a)));
                    var chosen = Io(() => store.ReserveFirstFree(candidates, record, hold))
                        ?? throw new CniException(CniErrorCode.TryAgainLater,
                            $"network {config.Name}: no free address in {set}, all {AddressAllocator.Capacity(set)} are in use" +
                            (closed.Count > 0 ? $" or in blocks closed to new pods ({string.Join(", ", closed)})" : ""),
                            $"allocations are recorded in {store.Directory}");
                    newlyReserved.Add(chosen);
                    Io(() => store.SetLastReserved(i, chosen));
                    result.Add(Reserved(set, chosen));
                }
                Io(store.Flush);
                return new AttachmentClaim(owner, hold, held.Any(a => a.Record!.IsLegacy), result);
            }
            catch
            {
                // One address per family or none: a pod half-addressed is worse than a retry.
                TryRelease(store, hold, newlyReserved);
                hold.Dispose();
                throw;
            }
        }
    }

    /// <summary>Holds what <paramref name="owner"/> has on disk, for DEL; an empty claim when the network has no store.</summary>
    public static AttachmentClaim ClaimExisting(NetworkConfig config, Attachment owner)
    {
        while (true)
        {
            using var store = Io(() => AllocationStore.OpenExisting(config.Ipam.DataDir, config.Name));
            if (store is null) return new AttachmentClaim(owner, new AllocationHold(), false, []);
            var hold = HoldOrWait(store, owner, List(store));
            if (hold is null) continue;
            return new AttachmentClaim(owner, hold, hold.Allocations.Any(a => a.Record!.IsLegacy), []);
        }
    }

    /// <summary>Frees every address of <paramref name="claim"/>; nothing happens when it holds none.</summary>
    public static IReadOnlyList<IPAddress> Release(NetworkConfig config, AttachmentClaim claim)
    {
        if (claim.Allocations.Count == 0) return [];
        using var store = Open(config);
        return Io(() => store.Release(claim.Hold));
    }

    /// <summary>The addresses <paramref name="owner"/> holds now, read without the lock.</summary>
    public static IReadOnlyList<IPAddress> HeldBy(NetworkConfig config, Attachment owner) =>
        Io(() => AllocationStore.ReadAllocations(config.Ipam.DataDir, config.Name)).Where(a => a.Owner == owner).Select(a => a.Address).ToList();

    /// <summary>Opens the network's store; code 5 when the disk will not have it.</summary>
    public static AllocationStore Open(NetworkConfig config) =>
        Io(() => AllocationStore.Open(config.Ipam.DataDir, config.Name));

    /// <summary>Runs a store operation, turning an I/O failure into the spec's code 5 with the store's own sentence.</summary>
    public static T Io<T>(Func<T> operation)
    {
        try
        {
            return operation();
        }
        catch (IOException e)
        {
            throw new CniException(CniErrorCode.IoFailure, e.Message);
        }
    }

    private static void Io(Action operation) => Io(() =>
    {
        operation();
        return true;
    });

    private static IReadOnlyList<Allocation> List(AllocationStore store) => Io(store.List);

    private static IPAddress? LastReserved(AllocationStore store, int setIndex) => Io(() => store.LastReserved(setIndex));

    /// <summary>The owner's records held; null after waiting for another process that held one (start over then).</summary>
    private static AllocationHold? HoldOrWait(AllocationStore store, Attachment owner, IReadOnlyList<Allocation> allocations)
    {
        var hold = Io(() => store.TryHoldAttachment(owner, allocations, out var busy) ?? Wait(store, busy!));
        return hold;

        static AllocationHold? Wait(AllocationStore store, BusyRecord busy)
        {
            // Never wait while holding the store's lock: the holder may need it to finish.
            store.Dispose();
            busy.WaitUntilFree();
            return null;
        }
    }

    private static void TryRelease(AllocationStore store, AllocationHold hold, IReadOnlyList<IPAddress> addresses)
    {
        if (addresses.Count == 0) return;
        try
        {
            store.Release(hold, addresses);
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"trellis-cni: cleaning up after a failed reservation: {e.Message}");
        }
    }

    private static ReservedAddress Reserved(RangeSet set, IPAddress address)
    {
        var range = set.RangeOf(address)!;
        return new ReservedAddress(new IpPrefix(address, range.Subnet.PrefixLength), range);
    }
}
