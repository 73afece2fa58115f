using Trellis.Ipam;

namespace Trellis.NodeAgent.Cni;

/// <summary>Installs the trellis-cni binary (or another plugin) into the CNI bin directory when the installed copy differs.</summary>
public sealed class PluginInstaller(string source, string cniBinDir, string name = NodeContract.PluginType)
{
    public string Target => Path.Combine(cniBinDir, name);

    public bool Install()
    {
        try
        {
            var content = File.ReadAllBytes(source);
            const UnixFileMode executable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
            return AtomicFile.WriteIfChanged(Target, content, executable);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot install CNI plugin {source} into {Target}: {e.Message}", e);
        }
    }
}

/// <summary>
/// The init container's work (`trellis-agent install-cni`): copies every plugin the image ships
/// (trellis-cni and the plugins the conflist chains after it, in one directory) into the host's
/// CNI bin directory, each replaced atomically and only when it differs, so the agent's own
/// container can mount that directory read-only.
/// </summary>
public static class PluginDirectoryInstaller
{
    public static IReadOnlyList<string> Install(string sourceDirectory, string cniBinDir)
    {
        var installed = new List<string>();
        foreach (var source in Directory.EnumerateFiles(sourceDirectory).Order(StringComparer.Ordinal))
            if (new PluginInstaller(source, cniBinDir, Path.GetFileName(source)).Install()) installed.Add(Path.GetFileName(source));
        return installed;
    }
}
