using System.Text.RegularExpressions;
using System.Xml.Linq;
using Xunit;

namespace Trellis.Crds.Tests;

/// <summary>
/// The Dockerfiles are the images' configuration; scripts/images.sh assembles the root filesystem they
/// copy and builds them (tests/Trellis.Local.Tests Images runs it). Checked here by reading: they
/// pull no base image, start the published programs, and agree with the script and the manifests.
/// </summary>
public sealed partial class DockerfileTests
{
    public static IEnumerable<object[]> Dockerfiles() => [["operator/Dockerfile", "operator/Trellis.Operator.csproj"], ["node-agent/Dockerfile", "node-agent/Trellis.NodeAgent.csproj"]];

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void Each_image_is_the_assembled_root_filesystem_alone_and_starts_its_program(string dockerfile, string project)
    {
        var lines = Instructions(dockerfile);

        Assert.Equal(["FROM scratch"], lines.Where(l => l.StartsWith("FROM ", StringComparison.Ordinal)));
        Assert.Equal(["COPY rootfs/ /"], lines.Where(l => l.StartsWith("COPY ", StringComparison.Ordinal) || l.StartsWith("ADD ", StringComparison.Ordinal)));
        Assert.DoesNotContain(lines, l => l.StartsWith("RUN ", StringComparison.Ordinal));
        Assert.Contains($"ENTRYPOINT [\"/app/{AssemblyName(project)}\"]", lines);
    }

    [Fact]
    public void The_operator_image_runs_its_program_as_the_deployments_non_root_user()
    {
        var container = Manifests.Single("Deployment", "trellis-operator").As<k8s.Models.V1Deployment>().Spec.Template.Spec;
        var user = container.SecurityContext.RunAsUser;

        Assert.NotEqual(0, user);
        Assert.Contains($"USER {user}:{container.SecurityContext.RunAsGroup}", Instructions("operator/Dockerfile"));
    }

    [Fact]
    public void The_agent_image_puts_the_plugin_where_the_daemonset_says()
    {
        var container = Assert.Single(Manifests.Single("DaemonSet", "trellis-agent").As<k8s.Models.V1DaemonSet>().Spec.Template.Spec.Containers);
        var pluginSource = WorkloadTests.Arguments(container)["--cni-plugin-source"];
        var script = File.ReadAllText(Path.Combine(ConfigFiles.Root, "scripts", "images.sh"));
        var pluginDirectory = PluginDirectory().Match(script).Groups["directory"].Value;
        var plugin = AssemblyName("cni/Trellis.Cni.csproj");

        Assert.Equal($"{pluginDirectory}/{plugin}", pluginSource);
        // The agent runs nft by name.
        Assert.Matches(@"(?m)^ENV PATH=(\S*:)?/usr/sbin[: ]", File.ReadAllText(Path.Combine(ConfigFiles.Root, "node-agent/Dockerfile")));
        Assert.Contains("copy_file \"$root\" /usr/sbin/nft", script);
    }

    private static IReadOnlyList<string> Instructions(string dockerfile) =>
        File.ReadAllLines(Path.Combine(ConfigFiles.Root, dockerfile)).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();

    private static string AssemblyName(string project) =>
        XDocument.Load(Path.Combine(ConfigFiles.Root, project)).Descendants("AssemblyName").Single().Value;

    [GeneratedRegex(@"(?m)^plugin_dir=(?<directory>\S+)$")]
    private static partial Regex PluginDirectory();
}
