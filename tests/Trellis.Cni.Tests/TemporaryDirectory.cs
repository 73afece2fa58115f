namespace Trellis.Cni.Tests;

/// <summary>A directory under /tmp for one test, removed with everything in it on dispose.</summary>
public sealed class TemporaryDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("trellis-cni-test-").FullName;

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
