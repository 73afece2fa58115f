using Trellis.Addressing;
using System.Net;
using Trellis.NodeAgent.Planning;

namespace Trellis.NodeAgent.Cni;

/// <summary>Counts the plugin's allocation records: one file per address in use, named by the address, under dataDir/&lt;network&gt;/.</summary>
public static class IpamUsage
{
    public static int CountInUse(string ipamDataDir, IReadOnlyList<Block> blocks)
    {
        var directory = Path.Combine(ipamDataDir, AgentSettings.NetworkName);
        if (!Directory.Exists(directory)) return 0;
        int count = 0;
        foreach (var file in Directory.EnumerateFiles(directory))
            if (IPAddress.TryParse(Path.GetFileName(file), out var address) && blocks.Any(b => b.Cidr.Contains(address)))
                count++;
        return count;
    }
}
