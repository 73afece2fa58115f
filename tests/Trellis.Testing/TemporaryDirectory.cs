namespace Trellis.Testing;

/// <summary>A directory under /tmp for one test, removed with everything in it on dispose.</summary>
public sealed class TemporaryDirectory(string prefix = "trellis-test-") : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory(prefix).FullName;

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
