namespace Trellis.Local.Containers;

/// <summary>
/// The `podman run` command lines of a local cluster's containers, shaped like the pods of
/// config/agent/daemonset.yaml and config/operator/deployment.yaml: the agent as root with only
/// NET_ADMIN and NET_BIND_SERVICE, on its node's network (hostNetwork), a read-only root filesystem,
/// the host directories it needs mounted at their own paths and the CNI bin directory read-only
/// (the init container, install-cni, fills it first); the operator unprivileged as its image says.
/// </summary>
public static class ContainerWorkloads
{
    /// <summary>Where the agent image keeps the plugins its init container installs (scripts/images.sh plugin_dir).</summary>
    public const string ImagePluginDirectory = "/usr/local/lib/trellis";

    public static string AgentName(string prefix, string node) => $"{prefix}-{node}-agent";
    public static string InstallCniName(string prefix, string node) => $"{prefix}-{node}-install-cni";
    public static string OperatorName(string prefix) => $"{prefix}-operator";

    /// <summary>The init container: copies trellis-cni and the chained plugins into the node's CNI bin directory, then exits.</summary>
    public static IReadOnlyList<string> InstallCni(string prefix, string node, string image, string cniBinDir) =>
    [
        "run", "--rm", "--name", InstallCniName(prefix, node), "--label", $"{Podman.ClusterLabel}={prefix}", .. Podman.RunArguments,
        "--network", "none", "--user", "0", "--cap-drop", "ALL", "--read-only", "--security-opt", "no-new-privileges",
        "--volume", $"{cniBinDir}:{cniBinDir}",
        image, "install-cni", "--plugins-dir", ImagePluginDirectory, "--cni-bin-dir", cniBinDir,
    ];

    /// <param name="readOnlyFiles">Files the agent reads (its kubeconfig), mounted read-only at their paths.</param>
    /// <param name="writableDirectories">Host directories it writes (the CNI conf dir, its state dir), mounted at their paths.</param>
    public static IReadOnlyList<string> Agent(string prefix, string node, string image, string networkNamespacePath, string cniBinDir,
        IEnumerable<string> writableDirectories, IEnumerable<string> readOnlyFiles, string logFile, IEnumerable<string> agentArguments) =>
    [
        "run", "--detach", "--replace", "--name", AgentName(prefix, node), "--label", $"{Podman.ClusterLabel}={prefix}", .. Podman.RunArguments,
        "--network", $"ns:{networkNamespacePath}",
        "--user", "0", "--cap-drop", "ALL", "--cap-add", "NET_ADMIN,NET_BIND_SERVICE", "--security-opt", "no-new-privileges",
        "--read-only", "--tmpfs", "/tmp:size=16m",
        "--log-driver", "k8s-file", "--log-opt", $"path={logFile}",
        "--volume", $"{cniBinDir}:{cniBinDir}:ro",
        .. writableDirectories.SelectMany(d => new[] { "--volume", $"{d}:{d}" }),
        .. readOnlyFiles.SelectMany(f => new[] { "--volume", $"{f}:{f}:ro" }),
        image, .. agentArguments,
    ];

    /// <summary>The operator on a node's network, as its Deployment runs it on the host network; its image's user, unprivileged.</summary>
    public static IReadOnlyList<string> Operator(string prefix, string image, string networkNamespacePath, string kubeconfig, string logFile) =>
    [
        "run", "--detach", "--replace", "--name", OperatorName(prefix), "--label", $"{Podman.ClusterLabel}={prefix}", .. Podman.RunArguments,
        "--network", $"ns:{networkNamespacePath}",
        "--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--read-only", "--tmpfs", "/tmp:size=16m",
        "--log-driver", "k8s-file", "--log-opt", $"path={logFile}",
        "--volume", $"{kubeconfig}:{kubeconfig}:ro",
        image, "--kubeconfig", kubeconfig, "--leader-elect=true", $"--leader-election-namespace={Cluster.LocalCluster.SystemNamespace}",
        "--health-port=8081", $"--identity={OperatorName(prefix)}",
    ];

    /// <summary>The host process id of a running container (what `node stop --kill` and `down` signal).</summary>
    public static int ProcessId(string container) =>
        int.Parse(Podman.RunChecked(["inspect", "--format", "{{.State.Pid}}", container]).Trim(), System.Globalization.CultureInfo.InvariantCulture);
}
