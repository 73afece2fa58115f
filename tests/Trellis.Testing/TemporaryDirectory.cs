namespace Trellis.Testing;

/// <summary>A directory for one test (under /tmp, or under <paramref name="parent"/>), removed with everything in it on dispose.</summary>
public sealed class TemporaryDirectory(string prefix = "trellis-test-", string? parent = null) : IDisposable
{
    public string Path { get; } = parent is null
        ? Directory.CreateTempSubdirectory(prefix).FullName
        : Directory.CreateDirectory(System.IO.Path.Combine(parent, prefix + Guid.NewGuid().ToString("N")[..8])).FullName;

    /// <summary>
    /// /dev/shm when the machine has it: a tmpfs, where fsync costs nothing. For tests whose
    /// faults (a process killed) leave the page cache intact, so durability is not what they try.
    /// </summary>
    public static string? MemoryBacked => Directory.Exists("/dev/shm") ? "/dev/shm" : null;

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
