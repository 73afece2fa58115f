using Trellis.Ipam;

namespace Trellis.NodeAgent.Cni;

/// <summary>Installs the trellis-cni binary into the CNI bin directory when the installed copy differs.</summary>
public sealed class PluginInstaller(string source, string cniBinDir)
{
    public string Target => Path.Combine(cniBinDir, NodeContract.PluginType);

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
