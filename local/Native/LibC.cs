using System.Runtime.InteropServices;

namespace Trellis.Local.Native;

/// <summary>The few libc calls that make and enter named network namespaces without iproute2.</summary>
internal static partial class LibC
{
    public const int CloneNewNet = 0x40000000;
    public const ulong MsBind = 4096;
    public const int MntDetach = 2;
    public const int ORdOnly = 0;
    public const int OCloExec = 0x80000;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int unshare(int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int setns(int fd, int nstype);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int mount(string source, string target, string? filesystemType, ulong flags, IntPtr data);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int umount2(string target, int flags);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static unsafe partial int execve(string path, byte** argv, byte** envp);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int dup2(int oldFd, int newFd);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int setsid();

    public const int OWrOnly = 1;
    public const int OCreat = 0x40;
    public const int OAppend = 0x400;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int openMode(string path, int flags, int mode);

    public const int SigKill = 9;
    public const int SigTerm = 15;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "stat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int stat(string path, byte* buffer);

    /// <summary>st_ino of a path (x86_64 and arm64 glibc: the second 8-byte field), 0 when it cannot be read.</summary>
    public static unsafe ulong InodeOf(string path)
    {
        byte* buffer = stackalloc byte[256];
        return stat(path, buffer) == 0 ? *(ulong*)(buffer + 8) : 0;
    }

    public static string LastError() => Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError());
}
