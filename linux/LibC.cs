using System.Runtime.InteropServices;

namespace Trellis.Linux;

/// <summary>
/// The libc calls Trellis makes, declared once. Signatures are blittable (ints, pointers) so
/// Native AOT needs no marshalling stubs, and every symbol exists in glibc and musl alike (the
/// plugin ships linked statically against musl). The string overloads encode the path as
/// NUL-terminated UTF-8 on the stack. Errors are -1 with errno in <see cref="LastErrno"/>.
/// </summary>
public static unsafe partial class LibC
{
    /// <summary>dirfd meaning "relative to the working directory".</summary>
    public const int AT_FDCWD = -100;
    public const int AT_SYMLINK_NOFOLLOW = 0x100;
    public const int AT_REMOVEDIR = 0x200;
    public const int AT_SYMLINK_FOLLOW = 0x400;
    public const int AT_EMPTY_PATH = 0x1000;

    public const int LOCK_SH = 1, LOCK_EX = 2, LOCK_NB = 4, LOCK_UN = 8;

    public const int CLONE_NEWNS = 0x20000, CLONE_NEWCGROUP = 0x2000000, CLONE_NEWUTS = 0x4000000,
        CLONE_NEWIPC = 0x8000000, CLONE_NEWUSER = 0x10000000, CLONE_NEWPID = 0x20000000,
        CLONE_NEWNET = 0x40000000, CLONE_NEWTIME = 0x80;

    /// <summary>ioctl on a namespace file: which kind of namespace (CLONE_NEW*) it is; Linux 4.11 and later.</summary>
    public const uint NS_GET_NSTYPE = 0xb703;

    /// <summary>statfs f_type of nsfs, the file system of /proc/PID/ns/* and of their bind mounts (/run/netns/NAME).</summary>
    public const long NSFS_MAGIC = 0x6e736673;

    public static int LastErrno => Marshal.GetLastPInvokeError();

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true)]
    public static partial int Open(byte* path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "openat", SetLastError = true)]
    public static partial int OpenAt(int directoryFd, byte* path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "pread", SetLastError = true)]
    public static partial nint PRead(int fd, byte* buffer, nuint count, long offset);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "pwrite", SetLastError = true)]
    public static partial nint PWrite(int fd, byte* buffer, nuint count, long offset);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    public static partial int FSync(int fd);

    [LibraryImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    public static partial int FDataSync(int fd);

    [LibraryImport("libc", EntryPoint = "linkat", SetLastError = true)]
    public static partial int LinkAt(int oldDirectoryFd, byte* oldPath, int newDirectoryFd, byte* newPath, int flags);

    [LibraryImport("libc", EntryPoint = "unlinkat", SetLastError = true)]
    public static partial int UnlinkAt(int directoryFd, byte* path, int flags);

    [LibraryImport("libc", EntryPoint = "mkdirat", SetLastError = true)]
    public static partial int MkdirAt(int directoryFd, byte* path, int mode);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    public static partial int Flock(int fd, int operation);

    /// <param name="buffer">At least <see cref="FileStatus.BufferSize"/> bytes; decode with <see cref="FileStatus"/>.</param>
    [LibraryImport("libc", EntryPoint = "fstat", SetLastError = true)]
    public static partial int FStat(int fd, byte* buffer);

    /// <param name="buffer">At least 128 bytes; f_type is the first machine word on every 64-bit architecture.</param>
    [LibraryImport("libc", EntryPoint = "fstatfs", SetLastError = true)]
    public static partial int FStatFs(int fd, byte* buffer);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int fd, nuint request);

    /// <summary>A DIR* over <paramref name="fd"/>, which it then owns (closedir closes it).</summary>
    [LibraryImport("libc", EntryPoint = "fdopendir", SetLastError = true)]
    public static partial nint FdOpenDir(int fd);

    /// <summary>The next struct dirent*, or null at the end (errno 0) or on error (errno set).</summary>
    [LibraryImport("libc", EntryPoint = "readdir", SetLastError = true)]
    public static partial byte* ReadDir(nint directory);

    [LibraryImport("libc", EntryPoint = "closedir", SetLastError = true)]
    public static partial int CloseDir(nint directory);

    /// <summary>Offset of d_name in struct dirent (after d_ino, d_off, d_reclen, d_type) on 64-bit glibc and musl alike.</summary>
    public const int DirentNameOffset = 19;

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    public static partial int SetNs(int fd, int namespaceType);

    [LibraryImport("libc", EntryPoint = "unshare", SetLastError = true)]
    public static partial int Unshare(int flags);

    public const ulong MS_BIND = 4096;
    public const int MNT_DETACH = 2;

    [LibraryImport("libc", EntryPoint = "mount", SetLastError = true)]
    public static partial int Mount(byte* source, byte* target, byte* fileSystemType, ulong flags, nint data);

    [LibraryImport("libc", EntryPoint = "umount2", SetLastError = true)]
    public static partial int Unmount(byte* target, int flags);

    // Sockets. Only the netlink library opens one, yet the calls are declared here like every other libc
    // symbol: one file to check against glibc and musl, one errno convention. What is netlink's own
    // (AF_NETLINK, NETLINK_ROUTE, SOL_NETLINK and its options) stays in netlink/NetlinkSocket.cs.
    public const int SOCK_RAW = 3;
    public const int SOCK_CLOEXEC = 0x80000;
    public const int SOL_SOCKET = 1;
    public const int SO_RCVBUF = 8, SO_RCVBUFFORCE = 33;
    public const int MSG_TRUNC = 0x20;

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    public static partial int Socket(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    public static partial int SetSockOpt(int fd, int level, int name, int* value, uint length);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    public static partial nint Send(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    public static partial nint Receive(int fd, byte* buffer, nuint length, int flags);

    // Processes (trellis-local starts, signals and replaces them; tests stop and resume them).
    public const int SIGKILL = 9, SIGTERM = 15, SIGCONT = 18, SIGSTOP = 19;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "execve", SetLastError = true)]
    public static partial int Execve(byte* path, byte** argv, byte** envp);

    [LibraryImport("libc", EntryPoint = "dup2", SetLastError = true)]
    public static partial int Dup2(int oldFd, int newFd);

    [LibraryImport("libc", EntryPoint = "setsid", SetLastError = true)]
    public static partial int SetSid();

    [LibraryImport("libc", EntryPoint = "geteuid")]
    public static partial uint GetEffectiveUserId();

    /// <summary>fstatat(2) into a buffer of at least 256 bytes, decoded by <see cref="FileStatus"/>.</summary>
    [LibraryImport("libc", EntryPoint = "fstatat", SetLastError = true)]
    public static partial int FStatAt(int directoryFd, byte* path, byte* buffer, int flags);

    /// <summary>The C library's words for the last error ("No such file or directory").</summary>
    public static string LastError() => Marshal.GetPInvokeErrorMessage(LastErrno);

    public static int Open(string path, int flags, int mode = 0)
    {
        using var bytes = new PathBytes(path);
        fixed (byte* p = bytes.Span) return Open(p, flags, mode);
    }

    public static int OpenAt(int directoryFd, string path, int flags, int mode = 0)
    {
        using var bytes = new PathBytes(path);
        fixed (byte* p = bytes.Span) return OpenAt(directoryFd, p, flags, mode);
    }

    public static int UnlinkAt(int directoryFd, string path, int flags = 0)
    {
        using var bytes = new PathBytes(path);
        fixed (byte* p = bytes.Span) return UnlinkAt(directoryFd, p, flags);
    }

    public static int MkdirAt(int directoryFd, string path, int mode)
    {
        using var bytes = new PathBytes(path);
        fixed (byte* p = bytes.Span) return MkdirAt(directoryFd, p, mode);
    }

    /// <summary>Bind-mounts <paramref name="source"/> onto <paramref name="target"/> (how a named network namespace is kept).</summary>
    public static int BindMount(string source, string target)
    {
        using var sourceBytes = new PathBytes(source);
        using var targetBytes = new PathBytes(target);
        fixed (byte* s = sourceBytes.Span)
        fixed (byte* t = targetBytes.Span)
            return Mount(s, t, null, MS_BIND, 0);
    }

    public static int Unmount(string target, int flags)
    {
        using var bytes = new PathBytes(target);
        fixed (byte* p = bytes.Span) return Unmount(p, flags);
    }

    public static int Execve(string path, byte** argv, byte** envp)
    {
        using var bytes = new PathBytes(path);
        fixed (byte* p = bytes.Span) return Execve(p, argv, envp);
    }

    /// <summary>st_ino of a path, 0 when it cannot be read.</summary>
    public static ulong InodeOf(string path)
    {
        using var bytes = new PathBytes(path);
        byte* buffer = stackalloc byte[256];
        fixed (byte* p = bytes.Span)
            return FStatAt(AT_FDCWD, p, buffer, 0) == 0 ? FileStatus.Decode(new ReadOnlySpan<byte>(buffer, 256)).Inode : 0;
    }

    public static int LinkAt(int oldDirectoryFd, string oldPath, int newDirectoryFd, string newPath, int flags)
    {
        using var oldBytes = new PathBytes(oldPath);
        using var newBytes = new PathBytes(newPath);
        fixed (byte* o = oldBytes.Span)
        fixed (byte* n = newBytes.Span)
            return LinkAt(oldDirectoryFd, o, newDirectoryFd, n, flags);
    }
}
