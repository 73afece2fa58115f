using System.Runtime.InteropServices;

namespace Trellis.Linux;

/// <summary>Linux errno numbers, their symbolic names, and a reading a person can act on ("No space left on device (ENOSPC)").</summary>
public static class Errno
{
    public const int EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EIO = 5, ENXIO = 6, E2BIG = 7, EBADF = 9,
        EAGAIN = 11, ENOMEM = 12, EACCES = 13, EFAULT = 14, EBUSY = 16, EEXIST = 17, EXDEV = 18, ENODEV = 19,
        ENOTDIR = 20, EISDIR = 21, EINVAL = 22, ENFILE = 23, EMFILE = 24, ENOTTY = 25, ETXTBSY = 26, EFBIG = 27,
        ENOSPC = 28, ESPIPE = 29, EROFS = 30, EMLINK = 31, EPIPE = 32, ERANGE = 34, ENAMETOOLONG = 36, ENOLCK = 37,
        ENOSYS = 38, ENOTEMPTY = 39, ELOOP = 40, ENODATA = 61, EPROTO = 71, ENOTSOCK = 88, EMSGSIZE = 90,
        ENOPROTOOPT = 92, EPROTONOSUPPORT = 93, EOPNOTSUPP = 95, EAFNOSUPPORT = 97, EADDRINUSE = 98,
        EADDRNOTAVAIL = 99, ENETDOWN = 100, ENETUNREACH = 101, ENOBUFS = 105, ETIMEDOUT = 110,
        ECONNREFUSED = 111, EHOSTUNREACH = 113, ESTALE = 116, EDQUOT = 122;

    /// <summary>EWOULDBLOCK is EAGAIN on Linux.</summary>
    public const int EWOULDBLOCK = EAGAIN;

    public static string Name(int errno) => errno switch
    {
        EPERM => "EPERM", ENOENT => "ENOENT", ESRCH => "ESRCH", EINTR => "EINTR", EIO => "EIO", ENXIO => "ENXIO",
        E2BIG => "E2BIG", EBADF => "EBADF", EAGAIN => "EAGAIN", ENOMEM => "ENOMEM", EACCES => "EACCES",
        EFAULT => "EFAULT", EBUSY => "EBUSY", EEXIST => "EEXIST", EXDEV => "EXDEV", ENODEV => "ENODEV",
        ENOTDIR => "ENOTDIR", EISDIR => "EISDIR", EINVAL => "EINVAL", ENFILE => "ENFILE", EMFILE => "EMFILE",
        ENOTTY => "ENOTTY", ETXTBSY => "ETXTBSY", EFBIG => "EFBIG", ENOSPC => "ENOSPC", ESPIPE => "ESPIPE",
        EROFS => "EROFS", EMLINK => "EMLINK", EPIPE => "EPIPE", ERANGE => "ERANGE", ENAMETOOLONG => "ENAMETOOLONG",
        ENOLCK => "ENOLCK", ENOSYS => "ENOSYS", ENOTEMPTY => "ENOTEMPTY", ELOOP => "ELOOP", ENODATA => "ENODATA",
        EPROTO => "EPROTO", ENOTSOCK => "ENOTSOCK", EMSGSIZE => "EMSGSIZE", ENOPROTOOPT => "ENOPROTOOPT",
        EPROTONOSUPPORT => "EPROTONOSUPPORT", EOPNOTSUPP => "EOPNOTSUPP", EAFNOSUPPORT => "EAFNOSUPPORT",
        EADDRINUSE => "EADDRINUSE", EADDRNOTAVAIL => "EADDRNOTAVAIL", ENETDOWN => "ENETDOWN",
        ENETUNREACH => "ENETUNREACH", ENOBUFS => "ENOBUFS", ETIMEDOUT => "ETIMEDOUT", ECONNREFUSED => "ECONNREFUSED",
        EHOSTUNREACH => "EHOSTUNREACH", ESTALE => "ESTALE", EDQUOT => "EDQUOT",
        _ => $"errno {errno}",
    };

    /// <summary>The C library's own words with the symbolic name: "No space left on device (ENOSPC)".</summary>
    public static string Describe(int errno) => $"{Marshal.GetPInvokeErrorMessage(errno)} ({Name(errno)})";
}
