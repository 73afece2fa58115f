using Trellis.Local.Containers;
using Trellis.Testing;
using Xunit;

namespace Trellis.Local.Tests.Images;

/// <summary>scripts/images.sh, run once for every test that needs the images (the build takes most of a minute).</summary>
public sealed class ImageBuild
{
    public CommandResult? Result { get; }

    public ImageBuild()
    {
        if (Podman.Problem is not null) return;
        Result = Shell.Run("bash", [Path.Combine(RepositoryRoot.Find(), "scripts", "images.sh")], timeout: TimeSpan.FromMinutes(10));
    }

    /// <summary>The build's output; fails the test with the script's own words when it failed.</summary>
    public string Output()
    {
        Assert.NotNull(Result);
        Assert.True(Result.Succeeded, $"scripts/images.sh exited {Result.ExitCode}:\n{Result.StandardError}\n{Result.StandardOutput}");
        return Result.StandardOutput;
    }
}

[CollectionDefinition(Name)]
public sealed class ImageCollection : ICollectionFixture<ImageBuild>
{
    public const string Name = "images";
}

/// <summary>A fact that skips itself, saying why, where podman cannot run containers.</summary>
public sealed class PodmanFactAttribute : FactAttribute
{
    public PodmanFactAttribute()
    {
        if (Podman.Problem is { } problem) Skip = problem;
    }
}
