using Trellis.Linux;

namespace Trellis.Netlink;

/// <summary>
/// Named network namespaces under /run/netns, made the way iproute2 makes them (a new
/// namespace bind-mounted onto a file), so `ip netns` and every other tool see them.
/// Open one with <see cref="NetworkNamespaceRef.Open"/>, work inside it with <see cref="NetworkNamespaceRunner"/>.
/// </summary>
public static class NamedNetworkNamespace
{
    public const string Directory = "/run/netns";

    public static string PathOf(string name) => Path.Combine(Directory, name);

    public static bool Exists(string name) => File.Exists(PathOf(name));

    public static IReadOnlyList<string> List() =>
        System.IO.Directory.Exists(Directory)
            ? System.IO.Directory.GetFiles(Directory).Select(Path.GetFileName).OfType<string>().Order().ToList()
            : [];

    /// <summary>Creates the namespace; fails if one of that name exists, so a stale world is never reused silently.</summary>
    public static string Create(string name)
    {
        if (name.Length == 0 || name.Contains('/') || name is "." or "..")
            throw new ArgumentException($"invalid namespace name \"{name}\"", nameof(name));
        System.IO.Directory.CreateDirectory(Directory);
        var path = PathOf(name);
        using (new FileStream(path, FileMode.CreateNew, FileAccess.Write)) { }

        // unshare() moves only the calling thread; a thread of our own keeps the process where it was.
        string? error = null;
        var thread = new Thread(() =>
        {
            if (LibC.Unshare(LibC.CLONE_NEWNET) != 0)
                error = $"unshare(CLONE_NEWNET): {Errno.Describe(LibC.LastErrno)}";
            else if (LibC.BindMount("/proc/thread-self/ns/net", path) != 0)
                error = $"bind-mount onto {path}: {Errno.Describe(LibC.LastErrno)}";
        });
        thread.Start();
        thread.Join();
        if (error is not null)
        {
            File.Delete(path);
            throw new IOException($"create network namespace {name}: {error}");
        }
        return path;
    }

    /// <summary>Removes the namespace; absent is fine (delete is idempotent).</summary>
    public static void Delete(string name)
    {
        var path = PathOf(name);
        if (!File.Exists(path)) return;
        LibC.Unmount(path, LibC.MNT_DETACH);
        File.Delete(path);
    }
}
