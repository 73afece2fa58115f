using k8s.Models;
using Xunit;

namespace Trellis.Crds.Tests;

public sealed class WorkloadTests
{
    // The flags each program accepts (operator/Program.cs, node-agent/AgentOptions.cs); the agent refuses unknown ones.
    private static readonly string[] OperatorFlags =
        ["--kubeconfig", "--leader-elect", "--leader-election-namespace", "--leader-election-name", "--identity",
         "--workers", "--write-concurrency", "--health-port", "--set-node-pod-cidrs"];
    private static readonly string[] AgentFlags =
        ["--kubeconfig", "--node-name", "--cni-conf-dir", "--cni-bin-dir", "--state-dir", "--cni-plugin-source", "--resync-period", "--reclaim-grace-period", "--bridge", "--metrics-port"];

    private static V1Deployment Operator => Manifests.Single("Deployment", "trellis-operator").As<V1Deployment>();
    private static V1DaemonSet Agent => Manifests.Single("DaemonSet", "trellis-agent").As<V1DaemonSet>();

    [Fact]
    public void The_operator_runs_two_leader_elected_replicas_spread_over_nodes()
    {
        var deployment = Operator;
        var pod = deployment.Spec.Template.Spec;
        var args = Arguments(Assert.Single(pod.Containers));

        Assert.Equal(2, deployment.Spec.Replicas);
        Assert.Equal("true", args["--leader-elect"]);
        Assert.Equal(deployment.Metadata.NamespaceProperty, args["--leader-election-namespace"]);
        Assert.Equal(Manifests.Single("Role", "trellis-operator-leader-election").Namespace, args["--leader-election-namespace"]);
        Assert.Equal("system-cluster-critical", pod.PriorityClassName);
        var spread = Assert.Single(pod.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution);
        Assert.Equal("kubernetes.io/hostname", spread.PodAffinityTerm.TopologyKey);
        Assert.Equal(deployment.Spec.Selector.MatchLabels, spread.PodAffinityTerm.LabelSelector.MatchLabels);
    }

    /// <summary>The operator hands out the pod network's addresses, so it cannot wait for one.</summary>
    [Fact]
    public void The_operator_needs_no_pod_network_and_tolerates_nodes_whose_network_is_not_ready()
    {
        var pod = Operator.Spec.Template.Spec;

        Assert.True(pod.HostNetwork);
        Assert.Equal("ClusterFirstWithHostNet", pod.DnsPolicy);
        Assert.Contains(pod.Tolerations, t => t.Key == "node.kubernetes.io/not-ready" && t.OperatorProperty == "Exists");
        Assert.Contains(pod.Tolerations, t => t.Key == "node.kubernetes.io/network-unavailable" && t.OperatorProperty == "Exists");
    }

    [Fact]
    public void The_operator_probes_its_health_port_and_runs_locked_down()
    {
        var pod = Operator.Spec.Template.Spec;
        var container = Assert.Single(pod.Containers);
        var healthPort = Assert.Single(container.Ports, port => port.Name == "health");

        Assert.Equal(int.Parse(Arguments(container)["--health-port"]), healthPort.ContainerPort);
        Assert.Equal("/healthz", container.LivenessProbe.HttpGet.Path);
        Assert.Equal("health", container.LivenessProbe.HttpGet.Port.Value);
        Assert.Equal("/readyz", container.ReadinessProbe.HttpGet.Path);
        Assert.Equal("health", container.ReadinessProbe.HttpGet.Port.Value);
        Assert.True(pod.SecurityContext.RunAsNonRoot);
        Assert.NotEqual(0, pod.SecurityContext.RunAsUser);
        Assert.True(container.SecurityContext.ReadOnlyRootFilesystem);
        Assert.False(container.SecurityContext.AllowPrivilegeEscalation);
        Assert.Equal(["ALL"], container.SecurityContext.Capabilities.Drop);
        Assert.Null(container.SecurityContext.Capabilities.Add);
        Assert.NotNull(container.Resources.Requests);
        Assert.NotNull(container.Resources.Limits);
    }

    /// <summary>A broken agent must stop a rolling update (maxUnavailable: 1), and a hung one be restarted.</summary>
    [Fact]
    public void The_agent_probes_its_metrics_port()
    {
        var container = Assert.Single(Agent.Spec.Template.Spec.Containers);
        var port = Assert.Single(container.Ports, p => p.Name == "metrics");

        Assert.Equal(int.Parse(Arguments(container)["--metrics-port"]), port.ContainerPort);
        Assert.Equal(("/healthz", "metrics"), (container.LivenessProbe.HttpGet.Path, container.LivenessProbe.HttpGet.Port.Value));
        Assert.Equal(("/readyz", "metrics"), (container.ReadinessProbe.HttpGet.Path, container.ReadinessProbe.HttpGet.Port.Value));
        // Liveness gives up only after the agent's own stuck threshold (two minutes in one pass) has had time to show.
        Assert.True(container.LivenessProbe.PeriodSeconds * container.LivenessProbe.FailureThreshold >= 60);
    }

    [Fact]
    public void Every_argument_is_a_flag_its_program_knows()
    {
        Assert.All(Arguments(Assert.Single(Operator.Spec.Template.Spec.Containers)).Keys, flag => Assert.Contains(flag, OperatorFlags));
        Assert.All(Arguments(Assert.Single(Agent.Spec.Template.Spec.Containers)).Keys, flag => Assert.Contains(flag, AgentFlags));
    }

    [Fact]
    public void The_agent_runs_on_every_node_on_the_host_network_with_only_net_admin()
    {
        var daemonSet = Agent;
        var pod = daemonSet.Spec.Template.Spec;
        var container = Assert.Single(pod.Containers);

        Assert.True(pod.HostNetwork);
        Assert.Equal("system-node-critical", pod.PriorityClassName);
        var tolerateAll = Assert.Single(pod.Tolerations);
        Assert.Equal(("Exists", null, null), (tolerateAll.OperatorProperty, tolerateAll.Key, tolerateAll.Effect));
        Assert.Equal("RollingUpdate", daemonSet.Spec.UpdateStrategy.Type);
        Assert.Equal("1", daemonSet.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable.Value);
        Assert.NotEqual(true, container.SecurityContext.Privileged);
        Assert.Equal(["ALL"], container.SecurityContext.Capabilities.Drop);
        Assert.Equal(["NET_ADMIN", "NET_BIND_SERVICE"], container.SecurityContext.Capabilities.Add);
        Assert.True(container.SecurityContext.ReadOnlyRootFilesystem);
    }

    [Fact]
    public void The_agent_learns_its_node_name_from_the_downward_api()
    {
        var container = Assert.Single(Agent.Spec.Template.Spec.Containers);
        var nodeName = Assert.Single(container.Env, e => e.Name == "NODE_NAME");

        Assert.Equal("spec.nodeName", nodeName.ValueFrom.FieldRef.FieldPath);
        Assert.Equal("$(NODE_NAME)", Arguments(container)["--node-name"]);
    }

    /// <summary>
    /// The conflist names the state directory (ipam.dataDir) and the plugin reads it on the host, so it is mounted
    /// at its own host path; the CNI directories are host paths too, the bin directory read-only (the init container fills it).
    /// </summary>
    [Fact]
    public void The_agent_directories_are_host_paths_mounted_at_the_same_place()
    {
        var pod = Agent.Spec.Template.Spec;
        var container = Assert.Single(pod.Containers);
        var args = Arguments(container);

        foreach (var flag in new[] { "--cni-conf-dir", "--cni-bin-dir", "--state-dir" })
        {
            var mount = Assert.Single(container.VolumeMounts, m => m.MountPath == args[flag]);
            var volume = Assert.Single(pod.Volumes, v => v.Name == mount.Name);
            Assert.Equal(args[flag], volume.HostPath?.Path);
            Assert.Equal(flag == "--cni-bin-dir", mount.ReadOnlyProperty == true);
        }
        Assert.Equal("/etc/cni/net.d", args["--cni-conf-dir"]);
        Assert.Equal("/opt/cni/bin", args["--cni-bin-dir"]);
        Assert.Equal("/var/lib/trellis", args["--state-dir"]);
        Assert.False(args.ContainsKey("--kubeconfig"));
    }

    internal static Dictionary<string, string> Arguments(V1Container container) =>
        (container.Args ?? []).Select(arg =>
        {
            Assert.StartsWith("--", arg);
            var parts = arg.Split('=', 2);
            return (Flag: parts[0], Value: parts.Length == 2 ? parts[1] : "");
        }).ToDictionary(a => a.Flag, a => a.Value);
}
