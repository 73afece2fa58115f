namespace Trellis.Ipam;

/// <summary>
/// The names the agent and the trellis-cni plugin share on a node, written once: the agent installs
/// the plugin and writes its configuration under these names, and the plugin falls back to these
/// defaults when a configuration leaves a field out, so a hand-written configuration lands where
/// the agent looks (its usage count reads the records under the same directory and network).
/// </summary>
public static class NodeContract
{
    /// <summary>The plugin's binary name in the CNI bin directory, and so its configuration's "type".</summary>
    public const string PluginType = "trellis-cni";

    /// <summary>The network's name in the configuration; its allocations live under dataDir/&lt;name&gt;.</summary>
    public const string NetworkName = "trellis";

    /// <summary>The configuration file in the CNI configuration directory.</summary>
    public const string ConflistFileName = "10-trellis.conflist";

    /// <summary>The pod bridge every veth is attached to.</summary>
    public const string DefaultBridge = "trellis0";

    /// <summary>The agent's and the plugin's state on the node.</summary>
    public const string DefaultStateDirectory = "/var/lib/trellis";

    /// <summary>Where allocations are recorded: ipam/ under the state directory.</summary>
    public const string DefaultIpamDataDirectory = DefaultStateDirectory + "/" + IpamSubdirectory;

    private const string IpamSubdirectory = "ipam";

    /// <summary>The IPAM data directory under a state directory.</summary>
    public static string IpamDataDirectory(string stateDirectory) => Path.Combine(stateDirectory, IpamSubdirectory);
}
