namespace Trellis.Linux;

/// <summary>
/// A failed system call, with what was attempted on which object: "link the allocation
/// record into /var/lib/trellis/ipam/trellis/10.244.1.2: No space left on device (ENOSPC)".
/// An <see cref="IOException"/>, so callers that map I/O failures treat it as one.
/// </summary>
public sealed class SystemCallException(string operation, int errno) : IOException($"{operation}: {Linux.Errno.Describe(errno)}")
{
    /// <summary>What was attempted, with its object.</summary>
    public string Operation { get; } = operation;

    /// <summary>Positive errno.</summary>
    public int Errno { get; } = errno;

    /// <summary>Throws for the errno of the call that just failed.</summary>
    public static SystemCallException FromLastError(string operation) => new(operation, LibC.LastErrno);
}
