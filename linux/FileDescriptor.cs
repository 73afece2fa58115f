namespace Trellis.Linux;

/// <summary>
/// An open file descriptor and the path it was opened as, closed on dispose. Its methods wrap
/// one system call each and throw <see cref="SystemCallException"/> naming the path, so a
/// caller's error reads "fsync /var/lib/trellis/ipam/trellis: Input/output error (EIO)". A
/// directory descriptor opens, links and unlinks names relative to itself (the *at calls),
/// so nothing is resolved twice and no symbolic link is followed where O_NOFOLLOW was asked.
/// </summary>
public sealed unsafe class FileDescriptor : IDisposable
{
    private int _fd;

    private FileDescriptor(int fd, string path)
    {
        _fd = fd;
        Path = path;
    }

    /// <summary>The path it was opened as, for messages.</summary>
    public string Path { get; }

    public int Value => _fd >= 0 ? _fd : throw new ObjectDisposedException(Path);

    /// <summary>Takes ownership of an fd opened elsewhere.</summary>
    public static FileDescriptor Adopt(int fd, string path) => new(fd, path);

    public static FileDescriptor Open(string path, int flags, int mode = 0) =>
        TryOpen(path, flags, mode, out var errno) ?? throw new SystemCallException($"open {path}", errno);

    /// <summary>Null, with the errno, when open(2) fails.</summary>
    public static FileDescriptor? TryOpen(string path, int flags, int mode, out int errno)
    {
        int fd = LibC.Open(path, flags | OpenFlags.CloseOnExec, mode);
        errno = fd < 0 ? LibC.LastErrno : 0;
        return fd < 0 ? null : new FileDescriptor(fd, path);
    }

    /// <summary>Opens <paramref name="name"/> relative to this directory.</summary>
    public FileDescriptor OpenAt(string name, int flags, int mode = 0) =>
        TryOpenAt(name, flags, mode, out var errno) ?? throw new SystemCallException($"open {PathOf(name)}", errno);

    public FileDescriptor? TryOpenAt(string name, int flags, int mode, out int errno)
    {
        int fd = LibC.OpenAt(Value, name, flags | OpenFlags.CloseOnExec, mode);
        errno = fd < 0 ? LibC.LastErrno : 0;
        return fd < 0 ? null : new FileDescriptor(fd, PathOf(name));
    }

    /// <summary>The path of <paramref name="name"/> in this directory, for messages.</summary>
    public string PathOf(string name) => Path.EndsWith('/') ? Path + name : $"{Path}/{name}";

    /// <summary>The names in this directory, "." and ".." left out; read through a descriptor of its own, so it starts at the beginning every time.</summary>
    public IReadOnlyList<string> ListNames()
    {
        using var own = OpenAt(".", OpenFlags.ReadOnly | OpenFlags.Directory);
        var directory = LibC.FdOpenDir(own.Value);
        if (directory == 0) throw SystemCallException.FromLastError($"list {Path}");
        own.Detach();
        try
        {
            var names = new List<string>();
            while (true)
            {
                var entry = LibC.ReadDir(directory);
                if (entry is null)
                {
                    int errno = LibC.LastErrno;
                    if (errno != 0) throw new SystemCallException($"list {Path}", errno);
                    return names;
                }
                var name = System.Runtime.InteropServices.Marshal.PtrToStringUTF8((nint)(entry + LibC.DirentNameOffset))!;
                if (name is not ("." or "..")) names.Add(name);
            }
        }
        finally
        {
            LibC.CloseDir(directory);
        }
    }

    public FileStatus Status()
    {
        byte* buffer = stackalloc byte[FileStatus.BufferSize];
        if (LibC.FStat(Value, buffer) != 0) throw SystemCallException.FromLastError($"fstat {Path}");
        return FileStatus.Decode(new ReadOnlySpan<byte>(buffer, FileStatus.BufferSize));
    }

    /// <summary>statfs f_type: which file system holds the file (<see cref="LibC.NSFS_MAGIC"/> for namespaces).</summary>
    public long FileSystemType()
    {
        byte* buffer = stackalloc byte[256];
        if (LibC.FStatFs(Value, buffer) != 0) throw SystemCallException.FromLastError($"fstatfs {Path}");
        return *(long*)buffer;
    }

    /// <summary>
    /// Reads up to <paramref name="limit"/> bytes from the start; more than that is an error, not
    /// a silent cut. A short read ends it: a regular file reads short only at its end, which
    /// saves the read that would return 0.
    /// </summary>
    public byte[] ReadAll(int limit)
    {
        var buffer = new byte[limit + 1];
        nint n;
        fixed (byte* p = buffer)
            while ((n = LibC.PRead(Value, p, (nuint)buffer.Length, 0)) < 0)
                if (LibC.LastErrno != Errno.EINTR) throw SystemCallException.FromLastError($"read {Path}");
        if (n > limit) throw new IOException($"read {Path}: longer than the {limit} bytes expected");
        return buffer[..(int)n];
    }

    /// <summary>Writes all of <paramref name="data"/> at <paramref name="offset"/>.</summary>
    public void WriteAll(ReadOnlySpan<byte> data, long offset = 0)
    {
        fixed (byte* p = data)
        {
            int done = 0;
            while (done < data.Length)
            {
                var n = LibC.PWrite(Value, p + done, (nuint)(data.Length - done), offset + done);
                if (n < 0)
                {
                    if (LibC.LastErrno == Errno.EINTR) continue;
                    throw SystemCallException.FromLastError($"write {Path}");
                }
                done += (int)n;
            }
        }
    }

    /// <summary>fdatasync: the data and what is needed to read it back (its size) reach the disk.</summary>
    public void DataSync()
    {
        if (LibC.FDataSync(Value) != 0) throw SystemCallException.FromLastError($"fdatasync {Path}");
    }

    /// <summary>fsync: data and all metadata; for a directory, its entries.</summary>
    public void Sync()
    {
        if (LibC.FSync(Value) != 0) throw SystemCallException.FromLastError($"fsync {Path}");
    }

    /// <summary>Waits for an exclusive flock (the lock goes with the open file, and with the process when it dies).</summary>
    public void LockExclusive()
    {
        while (LibC.Flock(Value, LibC.LOCK_EX) != 0)
            if (LibC.LastErrno != Errno.EINTR) throw SystemCallException.FromLastError($"lock {Path}");
    }

    /// <summary>An exclusive flock if nobody holds one; false when another open file holds it.</summary>
    public bool TryLockExclusive()
    {
        while (LibC.Flock(Value, LibC.LOCK_EX | LibC.LOCK_NB) != 0)
        {
            int errno = LibC.LastErrno;
            if (errno == Errno.EWOULDBLOCK) return false;
            if (errno != Errno.EINTR) throw new SystemCallException($"lock {Path}", errno);
        }
        return true;
    }

    /// <summary>
    /// Gives the open file <paramref name="file"/> the name <paramref name="name"/> in this
    /// directory; false when the name exists. Linking through /proc/self/fd needs no capability
    /// (AT_EMPTY_PATH would need CAP_DAC_READ_SEARCH).
    /// </summary>
    public bool TryLink(FileDescriptor file, string name)
    {
        if (LibC.LinkAt(LibC.AT_FDCWD, $"/proc/self/fd/{file.Value}", Value, name, LibC.AT_SYMLINK_FOLLOW) == 0) return true;
        int errno = LibC.LastErrno;
        if (errno == Errno.EEXIST) return false;
        throw new SystemCallException($"link {PathOf(name)}", errno);
    }

    /// <summary>Removes the name (a symbolic link itself, never its target); false when there was none.</summary>
    public bool Unlink(string name)
    {
        if (LibC.UnlinkAt(Value, name) == 0) return true;
        int errno = LibC.LastErrno;
        if (errno == Errno.ENOENT) return false;
        throw new SystemCallException($"unlink {PathOf(name)}", errno);
    }

    /// <summary>Makes the directory <paramref name="name"/> here; false when something of that name exists.</summary>
    public bool MakeDirectory(string name, int mode)
    {
        if (LibC.MkdirAt(Value, name, mode) == 0) return true;
        int errno = LibC.LastErrno;
        if (errno == Errno.EEXIST) return false;
        throw new SystemCallException($"mkdir {PathOf(name)}", errno);
    }

    /// <summary>Hands the descriptor to a new owner; this instance no longer closes it.</summary>
    public int Detach()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        ObjectDisposedException.ThrowIf(fd < 0, this);
        return fd;
    }

    public void Dispose()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0) LibC.Close(fd);
    }

    public override string ToString() => Path;
}
