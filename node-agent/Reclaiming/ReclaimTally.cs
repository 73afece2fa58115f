using System.Net;

namespace Trellis.NodeAgent.Reclaiming;

/// <summary>
/// Addresses the reclaimer freed that no NodeSubnet status counts yet. The reclaimer adds them;
/// the status writer takes those in a NodeSubnet's blocks, adds them to the count it finds there,
/// and gives them back when the write fails, so each reclaim is counted once.
/// </summary>
public sealed class ReclaimTally
{
    private readonly object _lock = new();
    private readonly List<IPAddress> _uncounted = [];

    /// <summary>Raised after a reclaim, so the status is written soon.</summary>
    public event Action? Changed;

    public void Add(IPAddress address)
    {
        lock (_lock) _uncounted.Add(address);
        Changed?.Invoke();
    }

    public IReadOnlyList<IPAddress> Take(Func<IPAddress, bool> belongs)
    {
        lock (_lock)
        {
            var taken = _uncounted.Where(belongs).ToList();
            _uncounted.RemoveAll(a => taken.Contains(a));
            return taken;
        }
    }

    public void GiveBack(IReadOnlyList<IPAddress> addresses)
    {
        if (addresses.Count == 0) return;
        lock (_lock) _uncounted.AddRange(addresses);
    }
}
