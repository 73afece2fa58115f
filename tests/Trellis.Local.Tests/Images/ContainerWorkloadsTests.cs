using Trellis.Crds.Yaml;
using Trellis.Local.Containers;
using Trellis.Testing;
using Xunit;

namespace Trellis.Local.Tests.Images;

/// <summary>The agent's container is run as config/agent/daemonset.yaml runs its pod: the same user, capabilities and read-only root.</summary>
public sealed class ContainerWorkloadsTests
{
    private static readonly IReadOnlyList<string> s_agent = ContainerWorkloads.Agent("p", "node1", "image", "/run/netns/p-node1", "/bin-dir",
        ["/conf-dir", "/state-dir"], ["/kubeconfig"], "/agent.log", ["--node-name", "node1"]);

    [Fact]
    public void The_agent_container_has_the_daemonsets_user_capabilities_and_read_only_root()
    {
        var daemonSet = YamlDocuments.LoadSingle(Path.Combine(RepositoryRoot.Find(), "config", "agent", "daemonset.yaml"));
        var container = daemonSet["spec"]!["template"]!["spec"]!["containers"]!.AsArray().Single(c => (string)c!["name"]! == "agent")!;
        var security = container["securityContext"]!;

        Assert.Equal(((long)security["runAsUser"]!).ToString(System.Globalization.CultureInfo.InvariantCulture), After("--user"));
        Assert.Equal(string.Join(',', security["capabilities"]!["add"]!.AsArray().Select(c => (string)c!)), After("--cap-add"));
        Assert.Equal("ALL", After("--cap-drop"));
        Assert.Equal((bool)security["readOnlyRootFilesystem"]!, s_agent.Contains("--read-only"));
        Assert.Equal((bool)security["privileged"]!, s_agent.Contains("--privileged"));
        Assert.Equal("ns:/run/netns/p-node1", After("--network"));
    }

    [Fact]
    public void The_agent_container_mounts_the_cni_bin_directory_read_only_and_what_it_writes_read_write()
    {
        var volumes = s_agent.Select((a, i) => (a, i)).Where(p => p.a == "--volume").Select(p => s_agent[p.i + 1]).ToList();
        Assert.Equal(["/bin-dir:/bin-dir:ro", "/conf-dir:/conf-dir", "/state-dir:/state-dir", "/kubeconfig:/kubeconfig:ro"], volumes);
    }

    private static string After(string flag) => s_agent[s_agent.ToList().IndexOf(flag) + 1];
}
