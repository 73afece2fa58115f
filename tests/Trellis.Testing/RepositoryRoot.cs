namespace Trellis.Testing;

/// <summary>Finds the checkout (the folder holding Trellis.sln) from wherever a test or benchmark runs.</summary>
public static class RepositoryRoot
{
    public static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Trellis.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no Trellis.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>The published trellis-cni (scripts/build-artifacts.sh puts it in out/cni).</summary>
    public static string CniPluginPath =>
        Environment.GetEnvironmentVariable("TRELLIS_CNI_BIN") ?? Path.Combine(Find(), "out", "cni", "trellis-cni");

    /// <summary>The agent as shipped (Native AOT, scripts/build-artifacts.sh): end-to-end tests run what the image carries.</summary>
    public static string AgentBinary => Path.Combine(Find(), "out", "agent", "trellis-agent");

    /// <summary>The operator as shipped (Native AOT, scripts/build-artifacts.sh).</summary>
    public static string OperatorBinary => Path.Combine(Find(), "out", "operator", "trellis-operator");
}
