using Trellis.Linux;

namespace Trellis.Ipam;

/// <summary>
/// Allocations whose records this process holds: an exclusive flock on each record's open
/// file, kept until disposed (or until the process dies, when the kernel drops it). A plugin
/// holds its attachment's records for the whole of ADD or DEL, so a twin ADD of the same
/// attachment waits rather than undoing its work, and GC or the agent's reclaim never frees a
/// record a plugin is working on. The lock belongs to the file, not its name: a record
/// unlinked and created anew under the same address is a different lock.
/// </summary>
public sealed class AllocationHold : IDisposable
{
    private readonly List<(Allocation Allocation, FileDescriptor File)> _held = [];

    public IReadOnlyList<Allocation> Allocations => _held.Select(h => h.Allocation).ToList();

    internal IEnumerable<(Allocation Allocation, FileDescriptor File)> Held => _held;

    internal void Add(Allocation allocation, FileDescriptor file) => _held.Add((allocation, file));

    internal void Forget(Allocation allocation)
    {
        var index = _held.FindIndex(h => ReferenceEquals(h.Allocation, allocation));
        if (index < 0) return;
        _held[index].File.Dispose();
        _held.RemoveAt(index);
    }

    public void Dispose()
    {
        foreach (var (_, file) in _held) file.Dispose();
        _held.Clear();
    }
}

/// <summary>A record another process holds: wait for it with <see cref="WaitUntilFree"/> after letting go of the store's lock.</summary>
public sealed class BusyRecord : IDisposable
{
    private readonly FileDescriptor _file;

    internal BusyRecord(FileDescriptor file) => _file = file;

    public string Path => _file.Path;

    /// <summary>Blocks until the holder is done (it finished, failed or died), then lets go at once.</summary>
    public void WaitUntilFree()
    {
        _file.LockExclusive();
        _file.Dispose();
    }

    public void Dispose() => _file.Dispose();
}
