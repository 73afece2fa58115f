using Trellis.Linux;

namespace Trellis.Netlink;

/// <summary>An open file descriptor on a network namespace (/run/netns/x, /proc/pid/ns/net), as setns and IFLA_NET_NS_FD take it.</summary>
public sealed class NetworkNamespaceRef : IDisposable
{
    private int _fd;

    private NetworkNamespaceRef(int fd, string path)
    {
        _fd = fd;
        Path = path;
    }

    public int Fd => _fd >= 0 ? _fd : throw new ObjectDisposedException($"network namespace {Path}");

    public string Path { get; }

    public static NetworkNamespaceRef Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        int fd = LibC.Open(path, OpenFlags.ReadOnly | OpenFlags.CloseOnExec);
        if (fd < 0) throw new NetlinkException($"open network namespace {path}", LibC.LastErrno);
        return new NetworkNamespaceRef(fd, path);
    }

    /// <summary>Takes ownership of a descriptor the caller opened (and checked) on a network namespace.</summary>
    public static NetworkNamespaceRef Adopt(int fd, string path)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fd);
        ArgumentException.ThrowIfNullOrEmpty(path);
        return new NetworkNamespaceRef(fd, path);
    }

    /// <summary>The calling thread's own namespace (threads, not processes, are what setns moves).</summary>
    public static NetworkNamespaceRef Current() => Open("/proc/thread-self/ns/net");

    public void Dispose()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0) LibC.Close(fd);
    }

    public override string ToString() => Path;
}
