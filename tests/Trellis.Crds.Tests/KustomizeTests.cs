using System.Text.Json.Nodes;
using k8s.Models;
using Trellis.Crds.Yaml;
using Trellis.Testing;
using Xunit;

namespace Trellis.Crds.Tests;

/// <summary>
/// What a cluster operator applies: config/ rendered by stock kubectl (`kubectl kustomize`, the
/// kustomize inside kubectl), checked for what makes the manifests acceptable on a real cluster.
/// </summary>
public sealed class KustomizeTests
{
    private static readonly Lazy<IReadOnlyList<JsonObject>> s_rendered = new(() => Render(ConfigFiles.ConfigDirectory));

    private static V1DaemonSet Agent(IReadOnlyList<JsonObject> rendered) => Object<V1DaemonSet>(rendered, "DaemonSet", "trellis-agent");
    private static V1Deployment Operator(IReadOnlyList<JsonObject> rendered) => Object<V1Deployment>(rendered, "Deployment", "trellis-operator");

    [Fact]
    public void An_init_container_installs_the_plugins_and_the_agent_mounts_the_bin_directory_read_only()
    {
        var pod = Agent(s_rendered.Value).Spec.Template.Spec;
        var install = Assert.Single(pod.InitContainers);
        var agent = Assert.Single(pod.Containers);
        var agentArgs = WorkloadTests.Arguments(agent);

        Assert.Equal(agent.Image, install.Image);
        Assert.Equal("install-cni", install.Args[0]);
        var installArgs = install.Args.Skip(1).Select(a => a.Split('=', 2)).ToDictionary(a => a[0], a => a[1]);
        // From the directory the agent's own plugin is in, into the directory it looks for it.
        Assert.Equal(Path.GetDirectoryName(agentArgs["--cni-plugin-source"]), installArgs["--plugins-dir"]);
        var installMount = Assert.Single(install.VolumeMounts, m => m.MountPath == installArgs["--cni-bin-dir"]);
        Assert.NotEqual(true, installMount.ReadOnlyProperty);
        var agentMount = Assert.Single(agent.VolumeMounts, m => m.MountPath == agentArgs["--cni-bin-dir"]);
        Assert.Equal(installMount.Name, agentMount.Name);
        Assert.True(agentMount.ReadOnlyProperty);
        Assert.Equal(["ALL"], install.SecurityContext.Capabilities.Drop);
        Assert.Null(install.SecurityContext.Capabilities.Add);
        Assert.True(install.SecurityContext.ReadOnlyRootFilesystem);
    }

    [Fact]
    public void Both_workloads_run_only_on_linux_nodes_and_the_agent_is_node_critical()
    {
        var agent = Agent(s_rendered.Value).Spec.Template.Spec;
        var @operator = Operator(s_rendered.Value).Spec.Template.Spec;

        Assert.Equal("linux", agent.NodeSelector["kubernetes.io/os"]);
        Assert.Equal("linux", @operator.NodeSelector["kubernetes.io/os"]);
        Assert.Equal("system-node-critical", agent.PriorityClassName);
    }

    /// <summary>No node has pod networking before the operator gives it a block: it must be scheduled on, and stay on, nodes that are not ready.</summary>
    [Theory]
    [InlineData("node.kubernetes.io/not-ready", "NoSchedule")]
    [InlineData("node.kubernetes.io/not-ready", "NoExecute")]
    [InlineData("node.kubernetes.io/unreachable", "NoSchedule")]
    [InlineData("node.kubernetes.io/unreachable", "NoExecute")]
    [InlineData("node.cloudprovider.kubernetes.io/uninitialized", "NoSchedule")]
    [InlineData("node.kubernetes.io/network-unavailable", "NoSchedule")]
    public void The_operator_tolerates_nodes_that_are_not_ready(string taint, string effect)
    {
        var tolerations = Operator(s_rendered.Value).Spec.Template.Spec.Tolerations;

        // Tolerated for good: a toleration with tolerationSeconds would still evict it after a while.
        Assert.Contains(tolerations, t => t.Key == taint && t.OperatorProperty == "Exists" && (t.Effect is null || t.Effect == effect) && t.TolerationSeconds is null);
    }

    [Fact]
    public void A_disruption_budget_keeps_an_operator_replica_through_drains()
    {
        var deployment = Operator(s_rendered.Value);
        var budget = Object<V1PodDisruptionBudget>(s_rendered.Value, "PodDisruptionBudget", "trellis-operator");

        Assert.Equal(deployment.Metadata.NamespaceProperty, budget.Metadata.NamespaceProperty);
        Assert.All(budget.Spec.Selector.MatchLabels, label => Assert.Equal(label.Value, deployment.Spec.Template.Metadata.Labels[label.Key]));
        Assert.True(budget.Spec.MaxUnavailable.Value is "1" || budget.Spec.MinAvailable is not null);
        Assert.True(deployment.Spec.Replicas > 1, "one replica under a disruption budget of one unavailable is no protection");
    }

    [Fact]
    public void The_agent_reads_no_node()
    {
        var agentRole = Object<V1ClusterRole>(s_rendered.Value, "ClusterRole", "trellis-agent");

        Assert.DoesNotContain(agentRole.Rules, rule => rule.Resources.Contains("nodes"));
    }

    /// <summary>The host's CNI directories (k3s', GKE's, CRI-O's) are set in one place; the images by the kustomize images: entries.</summary>
    [Fact]
    public void The_cni_directories_and_the_images_change_in_one_place_each()
    {
        using var copy = new TemporaryDirectory();
        var config = Path.Combine(copy.Path, "config");
        CopyDirectory(ConfigFiles.ConfigDirectory, config);
        var kustomization = Path.Combine(config, "kustomization.yaml");
        var text = File.ReadAllText(kustomization);
        foreach (var (from, to) in new[]
                 {
                     ("binDir=/opt/cni/bin", "binDir=/var/lib/rancher/k3s/data/current/bin"),
                     ("confDir=/etc/cni/net.d", "confDir=/var/lib/rancher/k3s/agent/etc/cni/net.d"),
                 })
        {
            Assert.Contains(from, text);
            text = text.Replace(from, to, StringComparison.Ordinal);
        }
        var images = ConfigFiles.Json(Manifests.KustomizationPath)["images"]!.AsArray();
        foreach (var image in images)
        {
            var newName = (string)image!["newName"]!;
            text = text.Replace($"newName: {newName}", $"newName: registry.example.org/mine/{(string)image["name"]!}", StringComparison.Ordinal);
        }
        File.WriteAllText(kustomization, text);

        var rendered = Render(config);
        var pod = Agent(rendered).Spec.Template.Spec;
        Assert.Equal("/var/lib/rancher/k3s/data/current/bin", Assert.Single(pod.Volumes, v => v.Name == "cni-bin-dir").HostPath.Path);
        Assert.Equal("/var/lib/rancher/k3s/agent/etc/cni/net.d", Assert.Single(pod.Volumes, v => v.Name == "cni-conf-dir").HostPath.Path);
        var containers = pod.InitContainers.Concat(pod.Containers).Concat(Operator(rendered).Spec.Template.Spec.Containers).ToList();
        Assert.Equal(3, containers.Count);
        Assert.All(containers, c => Assert.StartsWith("registry.example.org/mine/trellis-", c.Image));
    }

    private static IReadOnlyList<JsonObject> Render(string directory)
    {
        var result = Shell.Run("kubectl", ["kustomize", directory], timeout: TimeSpan.FromMinutes(1));
        Assert.True(result.Succeeded, $"kubectl kustomize {directory} exited {result.ExitCode}: {result.StandardError}");
        return YamlDocuments.Parse(new StringReader(result.StandardOutput), $"kubectl kustomize {directory}");
    }

    private static T Object<T>(IReadOnlyList<JsonObject> rendered, string kind, string name) =>
        ConfigFiles.Typed<T>(Assert.Single(rendered, o => (string?)o["kind"] == kind && (string?)o["metadata"]?["name"] == name));

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
