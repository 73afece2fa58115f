using System.Text.Json;
using System.Text.Json.Serialization;
using Trellis.Local.Topology;

namespace Trellis.Local.Cluster;

/// <summary>
/// Everything a local cluster made, written down BEFORE each thing is made, so that `down`
/// can remove it all even after `up` crashed half-way.
/// </summary>
public sealed class LocalClusterState
{
    public int UpProcessId { get; set; }
    public string Prefix { get; set; } = "trellis";
    public TopologyKind Topology { get; set; }
    public string Routing { get; set; } = "Auto";

    /// <summary>The underlay's routing daemon with --routing BGP (frr or bird), its files under RouterDirectory.</summary>
    public string? Router { get; set; }
    public int PodsPerNode { get; set; }

    /// <summary>The agents' --reclaim-grace-period, kept so an agent started again (node start, reboot, add) gets the same.</summary>
    public string? ReclaimGracePeriod { get; set; }
    /// <summary>Agents and the operator run as containers (labelled with the prefix), so `down` removes them with podman.</summary>
    public bool Images { get; set; }
    public string? Kubeconfig { get; set; }
    public string? ApiServer { get; set; }
    public List<string> Namespaces { get; set; } = [];
    public List<NodeRecord> Nodes { get; set; } = [];
}

public sealed class NodeRecord
{
    public string Name { get; set; } = "";
    public int Ordinal { get; set; }
    public string Namespace { get; set; } = "";
    public int? AgentProcessId { get; set; }
    public int? KubeletProcessId { get; set; }
}

/// <summary>The state file and its lock: every process of a local cluster (up, node add, down) goes through here.</summary>
public sealed class StateStore(string directory)
{
    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    public string Directory { get; } = directory;
    public string StatePath => Path.Combine(Directory, "state.json");
    public string KubeconfigPath => Path.Combine(Directory, "kubeconfig");

    /// <summary>One line per request the API server refused to a ServiceAccount (the operator's, an agent's).</summary>
    public string RefusedRequestsPath => Path.Combine(Directory, "refused-requests.log");
    public string NodeDirectory(string node) => Path.Combine(Directory, "nodes", node);

    public bool Exists => File.Exists(StatePath);

    public LocalClusterState? Load() =>
        Exists ? JsonSerializer.Deserialize<LocalClusterState>(File.ReadAllText(StatePath), s_json) : null;

    /// <summary>Reads, changes and writes the state under an exclusive lock; the write is atomic (temp + rename).</summary>
    public LocalClusterState Update(Action<LocalClusterState> change)
    {
        System.IO.Directory.CreateDirectory(Directory);
        using var lockFile = AcquireLock();
        var state = Load() ?? new LocalClusterState();
        change(state);
        var temp = StatePath + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(state, s_json));
        File.Move(temp, StatePath, overwrite: true);
        return state;
    }

    /// <summary>
    /// Held by a command that changes one node (add, remove, reboot, stop, start) for as long as it
    /// runs, so two such commands on one node take turns instead of tearing down each other's work.
    /// </summary>
    public IDisposable LockNode(string node)
    {
        var directory = Path.Combine(Directory, "locks");
        System.IO.Directory.CreateDirectory(directory);
        return AcquireLock(Path.Combine(directory, node + ".lock"), TimeSpan.FromMinutes(10));
    }

    private FileStream AcquireLock() => AcquireLock(Path.Combine(Directory, "state.lock"), TimeSpan.FromSeconds(60));

    // .NET takes FileShare.None as a non-blocking flock; another trellis-local holding it means wait.
    private static FileStream AcquireLock(string path, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(50);
            }
        }
    }
}
