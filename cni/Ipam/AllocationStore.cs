using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Trellis.Cni.Config;
using Trellis.Cni.Spec;

namespace Trellis.Cni.Ipam;

/// <summary>
/// The allocations of one network on disk, after host-local's disk backend: under
/// <c>dataDir/&lt;network&gt;/</c> one file per address in use, named by the address and
/// holding "containerID\nifname". A file is created exclusively, content and all, before any link is
/// touched, so an address is taken the instant its file exists: a plugin killed at any later
/// point leaves at worst a reservation that DEL or GC frees, never an address given twice.
/// The store holds an exclusive flock on <c>lock</c> from open until dispose.
/// </summary>
public sealed partial class AllocationStore : IDisposable
{
    private const string LockFileName = "lock";
    private const string LastReservedPrefix = "last_reserved_ip.";
    // Only the lock holder writes it, so one name is enough; a crash leaves it behind harmlessly.
    private const string StagingFileName = "reserving";
    private const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private readonly SafeFileHandle _lock;

    public string Directory { get; }

    private AllocationStore(string directory, SafeFileHandle lockHandle)
    {
        Directory = directory;
        _lock = lockHandle;
    }

    /// <summary>Opens (creating if needed) the store of <paramref name="network"/> and waits for its lock.</summary>
    public static AllocationStore Open(string dataDir, string network)
    {
        var directory = Path.Combine(dataDir, network);
        try
        {
            System.IO.Directory.CreateDirectory(dataDir, DirectoryMode);
            System.IO.Directory.CreateDirectory(directory, DirectoryMode);
            // Opened with open(2) rather than File.OpenHandle, which takes a non-blocking flock of its
            // own and would fail, instead of wait, while another plugin holds the lock.
            var lockPath = Path.Combine(directory, LockFileName);
            int fd = OpenFile(lockPath, OpenReadWrite | OpenCreate | OpenCloseOnExec, (int)FileMode);
            if (fd < 0)
                throw new IOException($"cannot open {lockPath}: errno {Marshal.GetLastPInvokeError()}");
            var handle = new SafeFileHandle(fd, ownsHandle: true);
            while (Flock(handle, LockExclusive) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == EINTR) continue;
                handle.Dispose();
                throw new IOException($"cannot lock {Path.Combine(directory, LockFileName)}: errno {errno}");
            }
            return new AllocationStore(directory, handle);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CniException(CniErrorCode.IoFailure, $"cannot open the allocation store {directory}", e.Message);
        }
    }

    /// <summary>
    /// Creates the reservation file of <paramref name="address"/>; false when another holds it.
    /// The owner is written to a staging file first and hard-linked into place, which like
    /// O_CREAT|O_EXCL fails when the name exists, so a reservation is never seen half-written.
    /// </summary>
    public bool TryReserve(IPAddress address, Attachment owner)
    {
        var staging = Path.Combine(Directory, StagingFileName);
        var options = new FileStreamOptions
        {
            Mode = System.IO.FileMode.Create,
            Access = FileAccess.Write,
            Share = FileShare.None,
            UnixCreateMode = FileMode,
        };
        using (var file = new FileStream(staging, options))
            file.Write(Encoding.UTF8.GetBytes($"{owner.ContainerId}\n{owner.IfName}"));
        try
        {
            if (HardLink(staging, PathOf(address)) == 0) return true;
            int errno = Marshal.GetLastPInvokeError();
            if (errno == EEXIST) return false;
            throw new IOException($"cannot reserve {address} in {Directory}: errno {errno}");
        }
        finally
        {
            File.Delete(staging);
        }
    }

    public bool IsReserved(IPAddress address) => File.Exists(PathOf(address));

    /// <summary>Forgets <paramref name="address"/>'s reservation; nothing happens when there is none.</summary>
    public void Release(IPAddress address) => File.Delete(PathOf(address));

    /// <summary>Where the search of range set <paramref name="setIndex"/> ended last time.</summary>
    public IPAddress? LastReserved(int setIndex)
    {
        var path = Path.Combine(Directory, LastReservedPrefix + setIndex);
        if (!File.Exists(path)) return null;
        return IPAddress.TryParse(File.ReadAllText(path).Trim(), out var address) ? address : null;
    }

    /// <summary>Replaced by rename, so a crash leaves the old or the new address, never a cut-off one.</summary>
    public void SetLastReserved(int setIndex, IPAddress address)
    {
        var path = Path.Combine(Directory, LastReservedPrefix + setIndex);
        var staging = path + ".new";
        var options = new FileStreamOptions
        {
            Mode = System.IO.FileMode.Create,
            Access = FileAccess.Write,
            Share = FileShare.None,
            UnixCreateMode = FileMode,
        };
        using (var file = new FileStream(staging, options))
            file.Write(Encoding.ASCII.GetBytes(address.ToString()));
        File.Move(staging, path, overwrite: true);
    }

    /// <summary>Every reservation with its owner; a file whose content was cut short by a crash has no owner.</summary>
    public IReadOnlyList<(IPAddress Address, Attachment? Owner)> List()
    {
        var result = new List<(IPAddress, Attachment?)>();
        foreach (var path in System.IO.Directory.EnumerateFiles(Directory))
        {
            var name = Path.GetFileName(path);
            if (!name.Contains('.') && !name.Contains(':')) continue;
            if (name.StartsWith(LastReservedPrefix, StringComparison.Ordinal) || !IPAddress.TryParse(name, out var address)) continue;
            result.Add((address, ReadOwner(path)));
        }
        return result;
    }

    /// <summary>The addresses reserved for <paramref name="owner"/>.</summary>
    public IReadOnlyList<IPAddress> FindByOwner(Attachment owner) =>
        List().Where(entry => entry.Owner == owner).Select(entry => entry.Address).ToList();

    /// <summary>Releases every address of <paramref name="owner"/> and says which they were.</summary>
    public IReadOnlyList<IPAddress> ReleaseByOwner(Attachment owner)
    {
        var released = FindByOwner(owner);
        foreach (var address in released) Release(address);
        return released;
    }

    private static Attachment? ReadOwner(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        var newline = text.IndexOf('\n');
        if (newline <= 0 || newline == text.Length - 1) return null;
        return new Attachment(text[..newline], text[(newline + 1)..].TrimEnd('\r', '\n'));
    }

    // File names come from IPAddress.ToString, never from input, so no path can be smuggled in.
    private string PathOf(IPAddress address) => Path.Combine(Directory, address.ToString());

    public void Dispose() => _lock.Dispose();

    private const int LockExclusive = 2;
    private const int OpenReadWrite = 0x2;
    private const int OpenCreate = 0x40;
    private const int OpenCloseOnExec = 0x80000;
    private const int EINTR = 4;
    private const int EEXIST = 17;

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int OpenFile(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "link", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int HardLink(string existingPath, string newPath);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int Flock(SafeFileHandle fd, int operation);
}
