using System.Text;
using Trellis.Ipam;
using Trellis.NodeAgent.Planning;

namespace Trellis.NodeAgent.Cni;

/// <summary>Writes 10-trellis.conflist into the CNI configuration directory when its content changes.</summary>
public sealed class ConflistWriter(string cniConfDir)
{
    public string PathName => Path.Combine(cniConfDir, NodeContract.ConflistFileName);

    public bool Write(CniPlan plan)
    {
        try
        {
            return AtomicFile.WriteIfChanged(PathName, Encoding.UTF8.GetBytes(CniConflist.Render(plan)),
                UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot write CNI configuration {PathName}: {e.Message}", e);
        }
    }
}
