using Trellis.Crds;
using Trellis.Local.Topology;
using Trellis.Local.Routing;

namespace Trellis.Local.Cluster;

/// <summary>What `trellis-local up` builds; validated before anything is touched.</summary>
public sealed record LocalClusterOptions
{
    public int Nodes { get; init; } = 3;
    public int PodsPerNode { get; init; } = 2;
    public string Routing { get; init; } = RoutingModes.Auto;

    /// <summary>
    /// The daemon the underlay namespace runs, frr or bird: with --routing BGP (frr when unset) it holds
    /// every route between nodes; with another mode the nodes only announce their blocks to it.
    /// </summary>
    public string? Router { get; init; }
    public TopologyKind Topology { get; init; } = TopologyKind.L2;
    public string? NetworkFile { get; init; }

    /// <summary>Passed to every agent as --reclaim-grace-period; null leaves the agent's default.</summary>
    public string? ReclaimGracePeriod { get; init; }
    public string StateDirectory { get; init; } = "/run/trellis-local";
    public string Prefix { get; init; } = "trellis";
    public string AgentPath { get; init; } = DefaultBinary("agent", "trellis-agent");
    public string CniPluginPath { get; init; } = DefaultBinary("cni", "trellis-cni");
    public string ReferencePluginDirectory { get; init; } = "/usr/lib/cni";
    public bool Json { get; init; }

    /// <summary>Agents and the operator run as containers of the images scripts/images.sh builds, not as processes.</summary>
    public bool Images { get; init; }

    /// <summary>The router the underlay namespace runs, if any: with BGP mode always (frr unless --router says otherwise).</summary>
    public string? RouterKind => Router ?? (Routing == RoutingModes.Bgp ? UnderlayRouter.Frr : null);

    /// <summary>The problems that make these options unusable, in words a user can act on.</summary>
    public IEnumerable<string> Problems()
    {
        if (Nodes is < 1 or > TopologyPlan.MaxNodes) yield return $"--nodes must be 1..{TopologyPlan.MaxNodes}, not {Nodes}";
        if (PodsPerNode is < 0 or > 50) yield return $"--pods-per-node must be 0..50, not {PodsPerNode}";
        if (ReclaimGracePeriod is not null && !System.Text.RegularExpressions.Regex.IsMatch(ReclaimGracePeriod, @"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"))
            yield return $"--reclaim-grace-period must be a duration such as 60s or 1m30s, not {ReclaimGracePeriod}";
        if (!RoutingModes.All.Contains(Routing)) yield return $"--routing must be one of {string.Join(", ", RoutingModes.All)}, not {Routing}";
        if (Routing == RoutingModes.Direct && Topology != TopologyKind.L2)
            yield return $"--routing Direct needs every node on one L2 segment (--topology l2); a {Topology.ToString().ToLowerInvariant()} underlay needs VXLAN or Auto";
        if (RouterKind is { } router)
        {
            if (!UnderlayRouter.Kinds.Contains(router)) yield return $"--router must be one of {string.Join(", ", UnderlayRouter.Kinds)}, not {router}";
            else foreach (var binary in UnderlayRouter.Binaries(router).Where(b => !File.Exists(b)))
                yield return $"--router {router} needs {binary} (Debian package {(router == "frr" ? "frr" : "bird2")})";
        }
        if (Topology == TopologyKind.Mixed && Nodes < 2) yield return "--topology mixed needs at least 2 nodes";
        if (!System.Text.RegularExpressions.Regex.IsMatch(Prefix, "^[a-z][a-z0-9]{0,11}$")) yield return $"--prefix must be 1-12 lowercase letters and digits, not \"{Prefix}\"";
        if (NetworkFile is not null && !File.Exists(NetworkFile)) yield return $"--network {NetworkFile}: no such file";
        if (Images)
        {
            if (Containers.Podman.Problem is { } podman) yield return $"--images: {podman}";
            else foreach (var image in new[] { Containers.TrellisImages.Agent, Containers.TrellisImages.Operator }.Select(Containers.TrellisImages.Reference).Where(i => !Containers.Podman.HasImage(i)))
                yield return $"--images: no image {image} (build it with scripts/images.sh)";
        }
        else if (!File.Exists(AgentPath)) yield return $"agent binary {AgentPath} not found (build with scripts/local.sh or pass --agent)";
        if (!File.Exists(CniPluginPath)) yield return $"CNI plugin {CniPluginPath} not found (build with scripts/local.sh or pass --cni-plugin)";
        if (!File.Exists(Path.Combine(ReferencePluginDirectory, "portmap"))) yield return $"portmap not found in {ReferencePluginDirectory} (Debian package containernetworking-plugins)";
    }

    /// <summary>scripts/local.sh publishes every binary side by side under out/: out/local, out/agent, out/cni.</summary>
    private static string DefaultBinary(string folder, string name) =>
        Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", folder, name));
}
