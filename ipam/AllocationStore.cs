using System.Net;
using System.Text;
using Trellis.Addressing;
using Trellis.Linux;

namespace Trellis.Ipam;

/// <summary>
/// The allocations of one network on disk, and the only code that knows their layout. Under
/// <c>dataDir/&lt;network&gt;/</c>: one file per address in use, named by the address in its
/// canonical text form and holding its <see cref="AllocationRecord"/>; <c>lock</c>, whose
/// flock serialises everyone who reserves or frees; <c>last_reserved_ip.&lt;set&gt;</c>, where
/// the last search of each range set ended; <c>closed.&lt;block&gt;</c> (10.244.1.0_24), an empty file
/// marking a block closed to new allocations (<see cref="CloseBlocks"/>).
/// <para>
/// A record is written into an unnamed file (O_TMPFILE), made durable (fdatasync), and only
/// then given its address as name with linkat, which fails when the name exists. So an address
/// is taken the instant its file appears, the file is complete from that instant, and a process
/// killed at any point leaves either no file or a whole one, never a second name for it. The
/// directory is fsynced once per reservation (<see cref="Flush"/>). Names are opened with
/// O_NOFOLLOW relative to the directory: a symbolic link planted here is never followed.
/// </para>
/// An instance holds the store's lock from <see cref="Open"/> until disposed. Readers that only
/// look (<see cref="ReadAllocations"/>, <see cref="AllocatedAddresses"/>) need no lock, since no
/// record is ever seen half-written. Releasing happens under the lock and only for records held
/// (<see cref="AllocationHold"/>), which makes GC and the agent's reclaim safe beside each other
/// and beside running plugins.
/// </summary>
public sealed class AllocationStore : IDisposable
{
    private const string LockFileName = "lock";
    private const string LastReservedPrefix = "last_reserved_ip.";
    private const string ClosedPrefix = "closed.";
    // The fixed staging name of the format-0 plugin: a leftover is never an allocation, and one
    // left between its link and unlink is a second name of a record (issue 8, defect 1).
    private const string LegacyStagingFileName = "reserving";
    private const int DirectoryMode = 0x1C0; // 0700
    private const int FileMode = 0x180; // 0600
    // The cursor is rewritten in place at a fixed width, so it never needs a new file or a rename.
    private const int CursorWidth = 40;

    private static readonly int ReadRecordFlags = OpenFlags.ReadOnly | OpenFlags.NoFollow | OpenFlags.NonBlocking | OpenFlags.NoControllingTerminal;

    private readonly FileDescriptor _directory;
    private readonly FileDescriptor _lock;
    private bool _unsynced;

    private AllocationStore(FileDescriptor directory, FileDescriptor lockFile)
    {
        _directory = directory;
        _lock = lockFile;
    }

    /// <summary>dataDir/&lt;network&gt;.</summary>
    public string Directory => _directory.Path;

    public static string DirectoryOf(string dataDir, string network)
    {
        ValidateNetwork(network);
        return Path.Combine(dataDir, network);
    }

    /// <summary>Opens the store of <paramref name="network"/>, creating its directories if needed, and waits for its lock.</summary>
    public static AllocationStore Open(string dataDir, string network) =>
        OpenCore(dataDir, network, create: true)!;

    /// <summary>As <see cref="Open"/>, but null (and nothing created) when the network has no store yet.</summary>
    public static AllocationStore? OpenExisting(string dataDir, string network) =>
        OpenCore(dataDir, network, create: false);

    private static AllocationStore? OpenCore(string dataDir, string network, bool create)
    {
        var path = DirectoryOf(dataDir, network);
        FileDescriptor? directory = null;
        try
        {
            directory = create ? CreateDirectory(dataDir, network) : OpenDirectory(path, mustExist: false);
            if (directory is null) return null;
            var lockFile = directory.OpenAt(LockFileName, OpenFlags.ReadWrite | OpenFlags.Create | OpenFlags.NoFollow | OpenFlags.NonBlocking, FileMode);
            try
            {
                lockFile.LockExclusive();
            }
            catch
            {
                lockFile.Dispose();
                throw;
            }
            return new AllocationStore(directory, lockFile);
        }
        catch (SystemCallException e)
        {
            directory?.Dispose();
            throw Failure($"cannot open the allocation store {path}", e);
        }
    }

    /// <summary>Every allocation with its record (null when unreadable). Also removes a staging file the format-0 plugin left.</summary>
    public IReadOnlyList<Allocation> List()
    {
        if (_directory.Unlink(LegacyStagingFileName)) _unsynced = true;
        return ReadEntries(_directory);
    }

    /// <summary>
    /// Holds every record of <paramref name="owner"/> among <paramref name="allocations"/> (a
    /// listing made under this same lock). Null, with <paramref name="busy"/> set, when another
    /// process holds one of them: let go of the store, wait on it, and start over.
    /// </summary>
    public AllocationHold? TryHoldAttachment(Attachment owner, IReadOnlyList<Allocation> allocations, out BusyRecord? busy)
    {
        busy = null;
        var hold = new AllocationHold();
        try
        {
            foreach (var allocation in allocations.Where(a => a.Owner == owner))
            {
                var file = OpenRecord(allocation.Address);
                if (file is null) continue;
                if (!file.TryLockExclusive())
                {
                    busy = new BusyRecord(file);
                    hold.Dispose();
                    return null;
                }
                hold.Add(allocation, file);
            }
            return hold;
        }
        catch (SystemCallException e)
        {
            hold.Dispose();
            throw Failure($"cannot hold the allocations of {owner} in {Directory}", e);
        }
    }

    /// <summary>
    /// Compare-and-hold: holds <paramref name="expected"/>'s record only if its file still holds
    /// exactly that record and no other process holds it. Null when it changed, went, or is busy.
    /// </summary>
    public AllocationHold? TryHold(Allocation expected)
    {
        if (expected.Record is null) return null;
        FileDescriptor? file = null;
        try
        {
            file = OpenRecord(expected.Address);
            if (file is null || ReadRecord(file) != expected.Record || !file.TryLockExclusive())
            {
                file?.Dispose();
                return null;
            }
            var hold = new AllocationHold();
            hold.Add(expected, file);
            return hold;
        }
        catch (SystemCallException e)
        {
            file?.Dispose();
            throw Failure($"cannot hold the allocation of {expected.Address} in {Directory}", e);
        }
    }

    /// <summary>
    /// Reserves the first of <paramref name="candidates"/> whose name is free for
    /// <paramref name="record"/> and adds it to <paramref name="hold"/>; null when every
    /// candidate is taken. Durable once <see cref="Flush"/> has run.
    /// </summary>
    public IPAddress? ReserveFirstFree(IEnumerable<IPAddress> candidates, AllocationRecord record, AllocationHold hold)
    {
        FileDescriptor? file = null;
        try
        {
            foreach (var address in candidates)
            {
                if (file is null)
                {
                    // One unnamed file serves every attempt: a failed link leaves it unnamed and unchanged.
                    file = _directory.OpenAt(".", OpenFlags.Temporary | OpenFlags.ReadWrite, FileMode);
                    file.WriteAll(AllocationRecordFormat.Encode(record));
                    file.DataSync();
                    file.TryLockExclusive();
                }
                if (!_directory.TryLink(file, NameOf(address))) continue;
                _unsynced = true;
                hold.Add(new Allocation(address, record), file);
                return address;
            }
            file?.Dispose();
            return null;
        }
        catch (SystemCallException e)
        {
            file?.Dispose();
            throw Failure($"cannot record an allocation for {record.Owner} in {Directory}", e);
        }
    }

    /// <summary>
    /// Removes the records in <paramref name="hold"/> (only those of <paramref name="only"/>
    /// when given) and lets go of them; returns their addresses. Not flushed: a release a power
    /// cut undoes leaves an address taken, never one given twice.
    /// </summary>
    public IReadOnlyList<IPAddress> Release(AllocationHold hold, IReadOnlyCollection<IPAddress>? only = null)
    {
        var released = new List<IPAddress>();
        foreach (var (allocation, _) in hold.Held.ToList())
        {
            if (only is not null && !only.Contains(allocation.Address)) continue;
            try
            {
                _directory.Unlink(NameOf(allocation.Address));
            }
            catch (SystemCallException e)
            {
                throw Failure($"cannot free {allocation.Address} in {Directory}", e);
            }
            hold.Forget(allocation);
            released.Add(allocation.Address);
        }
        return released;
    }

    /// <summary>
    /// Removes the file of an allocation whose record cannot be read (<see cref="Allocation.Record"/>
    /// is null) if it is still unreadable; a plugin never holds one, so there is no lock to take.
    /// </summary>
    public bool ReleaseUnreadable(IPAddress address)
    {
        try
        {
            using (var file = OpenRecord(address))
                if (file is not null && ReadRecord(file) is not null) return false;
            return _directory.Unlink(NameOf(address));
        }
        catch (SystemCallException e)
        {
            throw Failure($"cannot free {address} in {Directory}", e);
        }
    }

    /// <summary>Where the search of range set <paramref name="setIndex"/> ended last time; null when never or unreadable.</summary>
    public IPAddress? LastReserved(int setIndex)
    {
        var name = LastReservedPrefix + setIndex;
        try
        {
            using var file = _directory.TryOpenAt(name, ReadRecordFlags, 0, out var errno);
            if (file is null)
                return errno == Errno.ENOENT ? null : throw new SystemCallException($"open {_directory.PathOf(name)}", errno);
            var text = Encoding.ASCII.GetString(file.ReadAll(CursorWidth * 2)).Trim();
            return IPAddress.TryParse(text, out var address) ? address : null;
        }
        catch (SystemCallException e)
        {
            throw Failure($"cannot read where the last search ended ({_directory.PathOf(name)})", e);
        }
    }

    /// <summary>
    /// Records where the search of range set <paramref name="setIndex"/> ended. A hint for the
    /// allocator's order, not a fact: written in place and not flushed of its own.
    /// </summary>
    public void SetLastReserved(int setIndex, IPAddress address)
    {
        var name = LastReservedPrefix + setIndex;
        try
        {
            using var file = _directory.OpenAt(name, OpenFlags.WriteOnly | OpenFlags.Create | OpenFlags.NoFollow | OpenFlags.NonBlocking, FileMode);
            var text = address.ToString().PadRight(CursorWidth - 1) + "\n";
            file.WriteAll(Encoding.ASCII.GetBytes(text));
        }
        catch (SystemCallException e)
        {
            throw Failure($"cannot record where the last search ended ({_directory.PathOf(name)})", e);
        }
    }

    /// <summary>Blocks closed to new allocations (<see cref="CloseBlocks"/>): a plugin skips every address in them.</summary>
    public IReadOnlyList<Cidr> ClosedBlocks()
    {
        try
        {
            return Names(_directory).Where(n => n.StartsWith(ClosedPrefix, StringComparison.Ordinal))
                .Select(n => Cidr.TryParse(n[ClosedPrefix.Length..].Replace('_', '/'), out var block) ? block : (Cidr?)null)
                .OfType<Cidr>().Order().ToList();
        }
        catch (SystemCallException e)
        {
            throw Failure($"cannot read the closed blocks of {Directory}", e);
        }
    }

    /// <summary>
    /// Makes exactly <paramref name="blocks"/> closed to new allocations, durably. A block leaves its node in two
    /// steps: closed here, then, once no address of it is in use, taken away. Closing under the store's lock is what
    /// makes "empty" final: a plugin that read an older configuration, still listing the block, finds it closed
    /// when it takes the lock, whatever the runtime's cached configuration says. Addresses already held stay.
    /// </summary>
    public void CloseBlocks(IReadOnlyCollection<Cidr> blocks)
    {
        try
        {
            var wanted = blocks.Select(ClosedName).ToHashSet(StringComparer.Ordinal);
            bool changed = false;
            foreach (var name in Names(_directory).Where(n => n.StartsWith(ClosedPrefix, StringComparison.Ordinal) && !wanted.Remove(n)))
                changed |= _directory.Unlink(name);
            foreach (var name in wanted)
            {
                using var marker = _directory.OpenAt(name, OpenFlags.WriteOnly | OpenFlags.Create | OpenFlags.NoFollow | OpenFlags.NonBlocking, FileMode);
                changed = true;
            }
            if (changed) _directory.Sync();
        }
        catch (SystemCallException e)
        {
            throw Failure($"cannot mark the closed blocks of {Directory}", e);
        }
    }

    private static string ClosedName(Cidr block) => ClosedPrefix + block.ToString().Replace('/', '_');

    /// <summary>Makes the reservations made so far durable: one fsync of the directory, none when nothing was added.</summary>
    public void Flush()
    {
        if (!_unsynced) return;
        try
        {
            _directory.Sync();
        }
        catch (SystemCallException e)
        {
            throw Failure($"cannot make the allocations in {Directory} durable", e);
        }
        _unsynced = false;
    }

    public void Dispose()
    {
        _lock.Dispose();
        _directory.Dispose();
    }

    /// <summary>Every allocation of the network without taking the lock (records appear whole or not at all); empty when there is no store.</summary>
    public static IReadOnlyList<Allocation> ReadAllocations(string dataDir, string network)
    {
        var path = DirectoryOf(dataDir, network);
        try
        {
            using var directory = OpenDirectory(path, mustExist: false);
            return directory is null ? [] : ReadEntries(directory);
        }
        catch (SystemCallException e)
        {
            throw Failure($"cannot read the allocations in {path}", e);
        }
    }

    /// <summary>The addresses in use, from file names alone, without the lock; empty when there is no store.</summary>
    public static IReadOnlyList<IPAddress> AllocatedAddresses(string dataDir, string network)
    {
        var path = DirectoryOf(dataDir, network);
        try
        {
            using var directory = OpenDirectory(path, mustExist: false);
            return directory is null ? [] : Names(directory).Select(AddressOf).OfType<IPAddress>().ToList();
        }
        catch (SystemCallException e)
        {
            throw Failure($"cannot read the allocations in {path}", e);
        }
    }

    /// <summary>The address an allocation file name stands for: only the canonical text form counts ("10.244.1.2", "fd00::2").</summary>
    public static IPAddress? AddressOf(string fileName)
    {
        if (fileName.Length < 2 || !(fileName.Contains('.') || fileName.Contains(':')) || fileName.Contains('%')) return null;
        return IPAddress.TryParse(fileName, out var address) && address.ToString() == fileName ? address : null;
    }

    private static string NameOf(IPAddress address) => address.ToString();

    private FileDescriptor? OpenRecord(IPAddress address)
    {
        var file = _directory.TryOpenAt(NameOf(address), ReadRecordFlags, 0, out var errno);
        if (file is null && errno is not (Errno.ENOENT or Errno.ELOOP))
            throw new SystemCallException($"open {_directory.PathOf(NameOf(address))}", errno);
        return file;
    }

    private static IReadOnlyList<Allocation> ReadEntries(FileDescriptor directory)
    {
        var result = new List<Allocation>();
        foreach (var name in Names(directory))
        {
            if (AddressOf(name) is not IPAddress address) continue;
            var file = directory.TryOpenAt(name, ReadRecordFlags, 0, out var errno);
            if (file is null)
            {
                // Freed since the listing (lock-free readers); anything else that cannot be opened is taken but unreadable.
                if (errno != Errno.ENOENT) result.Add(new Allocation(address, null));
                continue;
            }
            using (file)
                result.Add(new Allocation(address, ReadRecord(file)));
        }
        return result;
    }

    private static AllocationRecord? ReadRecord(FileDescriptor file)
    {
        byte[] content;
        try
        {
            content = file.ReadAll(AllocationRecordFormat.MaxBytes);
        }
        catch (IOException)
        {
            // A directory, a FIFO, something too long: not a record.
            return null;
        }
        if (content.Length == 0) return null;
        var modified = content[0] == (byte)'{' ? (DateTimeOffset?)null : file.Status().Modified;
        return AllocationRecordFormat.Decode(content, modified);
    }

    private static IReadOnlyList<string> Names(FileDescriptor directory) => directory.ListNames();

    private static FileDescriptor CreateDirectory(string dataDir, string network)
    {
        using var parent = EnsureDirectory(dataDir);
        bool created = parent.MakeDirectory(network, DirectoryMode);
        var directory = parent.TryOpenAt(network, OpenFlags.ReadOnly | OpenFlags.Directory | OpenFlags.NoFollow, 0, out var errno)
            ?? throw new SystemCallException($"open {parent.PathOf(network)}", SymbolicLinkOr(parent.PathOf(network), errno));
        // The new directory's own name must survive a power cut before any record in it matters.
        if (created) parent.Sync();
        return directory;
    }

    /// <summary>Opens <paramref name="path"/>, creating it and missing parents (each made durable in its parent) first.</summary>
    private static FileDescriptor EnsureDirectory(string path)
    {
        var directory = FileDescriptor.TryOpen(path, OpenFlags.ReadOnly | OpenFlags.Directory, 0, out var errno);
        if (directory is not null) return directory;
        if (errno != Errno.ENOENT) throw new SystemCallException($"open {path}", errno);
        var parentPath = Path.GetDirectoryName(path.TrimEnd('/'));
        if (string.IsNullOrEmpty(parentPath)) throw new SystemCallException($"open {path}", errno);
        using (var parent = EnsureDirectory(parentPath))
        {
            if (parent.MakeDirectory(Path.GetFileName(path.TrimEnd('/')), DirectoryMode)) parent.Sync();
        }
        return FileDescriptor.Open(path, OpenFlags.ReadOnly | OpenFlags.Directory);
    }

    private static FileDescriptor? OpenDirectory(string path, bool mustExist)
    {
        var directory = FileDescriptor.TryOpen(path, OpenFlags.ReadOnly | OpenFlags.Directory | OpenFlags.NoFollow, 0, out var errno);
        if (directory is null && (mustExist || errno != Errno.ENOENT)) throw new SystemCallException($"open {path}", SymbolicLinkOr(path, errno));
        return directory;
    }

    /// <summary>O_DIRECTORY|O_NOFOLLOW on a symbolic link fails with ENOTDIR; say ELOOP, which the messages explain.</summary>
    private static int SymbolicLinkOr(string path, int errno) =>
        errno == Errno.ENOTDIR && new FileInfo(path).LinkTarget is not null ? Errno.ELOOP : errno;

    private static void ValidateNetwork(string network)
    {
        if (string.IsNullOrEmpty(network) || network is "." or ".." || network.Contains('/') || network.Contains('\0'))
            throw new ArgumentException($"network name \"{network}\" cannot be a directory name", nameof(network));
    }

    private static IOException Failure(string what, SystemCallException e)
    {
        var reason = e.Errno == Errno.ELOOP ? $"{e.Operation}: it is a symbolic link, and the allocation store follows none" : e.Message;
        return new IOException($"{what}: {reason}", e);
    }
}
