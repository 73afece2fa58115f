using Trellis.Cni.Spec;
using Trellis.Linux;
using Trellis.Netlink;
using Errno = Trellis.Linux.Errno;

namespace Trellis.Cni.Environment;

/// <summary>
/// The pod's network namespace (CNI_NETNS), checked before anything is touched: it must be
/// a file on nsfs (so a FIFO, a plain file or a directory is refused, and opening it without
/// blocking means a FIFO cannot hang the plugin), a network namespace (not a mount or PID
/// one), and not the namespace the plugin runs in, which a pod's wiring would take over.
/// Anything else is code 4. The plugin's main thread visits it (<see cref="Inside{T}"/>) to
/// open a netlink socket there and comes straight back, so every system call of an ADD is made
/// by one thread, in order; a socket stays in the namespace it was made in.
/// </summary>
public sealed class PodNamespace : IDisposable
{
    private const string OwnNamespacePath = "/proc/thread-self/ns/net";

    private readonly FileDescriptor _own;

    private PodNamespace(NetworkNamespaceRef pod, FileDescriptor own)
    {
        Ref = pod;
        _own = own;
    }

    /// <summary>The namespace as netlink takes it (IFLA_NET_NS_FD).</summary>
    public NetworkNamespaceRef Ref { get; }

    public string Path => Ref.Path;

    /// <summary>Opens and checks <paramref name="path"/>; <see cref="CniException"/> with code 4 when it is not a pod's network namespace.</summary>
    public static PodNamespace Open(string path)
    {
        var file = FileDescriptor.TryOpen(path, OpenFlags.ReadOnly | OpenFlags.NonBlocking | OpenFlags.NoControllingTerminal, 0, out var errno)
            ?? throw Invalid($"CNI_NETNS {path} cannot be opened: {Errno.Describe(errno)}");
        FileDescriptor? own = null;
        try
        {
            if (file.FileSystemType() != LibC.NSFS_MAGIC)
                throw Invalid($"CNI_NETNS {path} is not a namespace file (a network namespace is a file on nsfs, such as /run/netns/NAME or /proc/PID/ns/net)");
            int type = LibC.Ioctl(file.Value, LibC.NS_GET_NSTYPE);
            if (type < 0)
                throw Invalid($"CNI_NETNS {path}: cannot tell which kind of namespace it is: {Errno.Describe(LibC.LastErrno)}");
            if (type != LibC.CLONE_NEWNET)
                throw Invalid($"CNI_NETNS {path} is a {KindOf(type)} namespace, not a network namespace");
            own = FileDescriptor.Open(OwnNamespacePath, OpenFlags.ReadOnly);
            var pod = file.Status();
            var mine = own.Status();
            if (pod.Device == mine.Device && pod.Inode == mine.Inode)
                throw Invalid($"CNI_NETNS {path} is the plugin's own network namespace (net:[{pod.Inode}]); a pod needs one of its own");
            return new PodNamespace(NetworkNamespaceRef.Adopt(file.Detach(), path), own);
        }
        catch (SystemCallException e)
        {
            file.Dispose();
            own?.Dispose();
            throw Invalid($"CNI_NETNS {path} cannot be checked: {e.Message}");
        }
        catch
        {
            file.Dispose();
            own?.Dispose();
            throw;
        }
    }

    /// <summary>Runs <paramref name="action"/> on the calling thread inside the pod's namespace, then returns to the plugin's own.</summary>
    public T Inside<T>(Func<T> action)
    {
        if (LibC.SetNs(Ref.Fd, LibC.CLONE_NEWNET) != 0)
            throw new CniException(CniErrorCode.Internal, $"cannot enter network namespace {Path}: {Errno.Describe(LibC.LastErrno)}");
        try
        {
            return action();
        }
        finally
        {
            // Sockets already open stay where they were made, so even this failure leaves nothing acting in the wrong place.
            if (LibC.SetNs(_own.Value, LibC.CLONE_NEWNET) != 0)
                throw new CniException(CniErrorCode.Internal, $"cannot return from network namespace {Path} to the plugin's own: {Errno.Describe(LibC.LastErrno)}");
        }
    }

    public void Inside(Action action) => Inside(() =>
    {
        action();
        return true;
    });

    public void Dispose()
    {
        Ref.Dispose();
        _own.Dispose();
    }

    private static string KindOf(int type) => type switch
    {
        LibC.CLONE_NEWNS => "mount",
        LibC.CLONE_NEWPID => "PID",
        LibC.CLONE_NEWUTS => "UTS",
        LibC.CLONE_NEWIPC => "IPC",
        LibC.CLONE_NEWUSER => "user",
        LibC.CLONE_NEWCGROUP => "cgroup",
        LibC.CLONE_NEWTIME => "time",
        _ => $"type 0x{type:x}",
    };

    private static CniException Invalid(string message) => new(CniErrorCode.InvalidEnvironment, message);
}
