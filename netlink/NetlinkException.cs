namespace Trellis.Netlink;

/// <summary>
/// A failed netlink request. The message carries the operation and its object together
/// ("add route 10.244.2.0/24 via 192.168.1.12: ENETUNREACH") so a log line alone is actionable.
/// </summary>
public sealed class NetlinkException : Exception
{
    public NetlinkException(string operation, int errno, string? kernelMessage = null)
        : base(Compose(operation, errno, kernelMessage))
    {
        Operation = operation;
        Errno = errno;
        KernelMessage = kernelMessage;
    }

    public NetlinkException(string operation, string reason)
        : base($"{operation}: {reason}")
    {
        Operation = operation;
        Errno = Trellis.Linux.Errno.EINVAL;
    }

    /// <summary>Positive errno (e.g. 19 for ENODEV).</summary>
    public int Errno { get; }

    public string ErrnoName => Trellis.Linux.Errno.Name(Errno);

    /// <summary>What was attempted, with its object: "get link foo".</summary>
    public string Operation { get; }

    /// <summary>The kernel's extended ack text, when it sent one.</summary>
    public string? KernelMessage { get; }

    /// <summary>The object was not there: no such link (ENODEV), route (ESRCH), neighbour (ENOENT) or address (EADDRNOTAVAIL).</summary>
    public bool IsNotFound => Errno is Trellis.Linux.Errno.ENOENT or Trellis.Linux.Errno.ENODEV
        or Trellis.Linux.Errno.ESRCH or Trellis.Linux.Errno.EADDRNOTAVAIL;

    public bool IsAlreadyExists => Errno == Trellis.Linux.Errno.EEXIST;

    private static string Compose(string operation, int errno, string? kernelMessage) =>
        string.IsNullOrEmpty(kernelMessage)
            ? $"{operation}: {Trellis.Linux.Errno.Name(errno)}"
            : $"{operation}: {Trellis.Linux.Errno.Name(errno)} ({kernelMessage})";
}
