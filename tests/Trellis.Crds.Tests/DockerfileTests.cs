using System.Text.RegularExpressions;
using System.Xml.Linq;
using Xunit;

namespace Trellis.Crds.Tests;

/// <summary>
/// No Docker engine runs here, so the Dockerfiles are checked by reading them: each build stage
/// copies every project the published one depends on, and the images hold what the manifests expect.
/// </summary>
public sealed partial class DockerfileTests
{
    private sealed record Stage(string Name, IReadOnlyList<string> Lines);

    public static IEnumerable<object[]> Dockerfiles() => [["operator/Dockerfile"], ["node-agent/Dockerfile"]];

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void Every_stage_copies_the_projects_it_publishes_and_all_they_reference(string dockerfile)
    {
        var stages = Stages(dockerfile);
        var published = 0;
        foreach (var stage in stages)
        foreach (var line in stage.Lines)
        {
            var match = PublishCommand().Match(line);
            if (!match.Success) continue;
            published++;
            // Project files are copied before the restore, so that a source edit reuses the restored layer.
            var restoreAt = stage.Lines.ToList().FindIndex(l => l.Contains("dotnet restore", StringComparison.Ordinal));
            Assert.True(restoreAt >= 0, $"{dockerfile} stage {stage.Name}: no dotnet restore");
            var copiedBeforeRestore = stage.Lines.Take(restoreAt).Select(l => CopyCommand().Match(l)).Where(m => m.Success)
                .Select(m => m.Groups["source"].Value).ToHashSet();
            var copied = stage.Lines.Select(l => CopyCommand().Match(l)).Where(m => m.Success)
                .Select(m => m.Groups["source"].Value.TrimEnd('/')).ToHashSet();
            Assert.Contains("Directory.Build.props", string.Join(" ", stage.Lines));
            Assert.Contains("Directory.Packages.props", string.Join(" ", stage.Lines));
            foreach (var project in ProjectClosure(match.Groups["project"].Value))
            {
                var directory = Path.GetDirectoryName(project)!;
                Assert.True(copiedBeforeRestore.Contains(project), $"{dockerfile} stage {stage.Name}: {project} is not copied before the restore");
                Assert.True(copied.Contains(directory), $"{dockerfile} stage {stage.Name}: the sources in {directory}/ are not copied");
            }
        }
        Assert.NotEqual(0, published);
    }

    [Fact]
    public void The_operator_image_runs_its_program_as_a_non_root_user()
    {
        var text = File.ReadAllText(Path.Combine(ConfigFiles.Root, "operator/Dockerfile"));
        var assembly = AssemblyName("operator/Trellis.Operator.csproj");

        Assert.Contains($"ENTRYPOINT [\"/app/{assembly}\"]", text);
        Assert.Contains("USER $APP_UID", text);
    }

    [Fact]
    public void The_agent_image_carries_nft_and_the_plugin_where_the_daemonset_says()
    {
        var text = File.ReadAllText(Path.Combine(ConfigFiles.Root, "node-agent/Dockerfile"));
        var container = Assert.Single(Manifests.Single("DaemonSet", "trellis-agent").As<k8s.Models.V1DaemonSet>().Spec.Template.Spec.Containers);
        var pluginSource = WorkloadTests.Arguments(container)["--cni-plugin-source"];
        var plugin = AssemblyName("cni/Trellis.Cni.csproj");

        Assert.Contains($"ENTRYPOINT [\"/app/{AssemblyName("node-agent/Trellis.NodeAgent.csproj")}\"]", text);
        Assert.Contains($"COPY --from=cni /out/{plugin} {pluginSource}", text);
        Assert.Equal(plugin, Path.GetFileName(pluginSource));
        Assert.Matches(@"apt-get install [^\n]*\bnftables\b", text);
        // The plugin runs on the host, whose C library is unknown: it must not depend on the image's.
        Assert.Contains("-p:StaticExecutable=true", text);
    }

    private static IReadOnlyList<Stage> Stages(string dockerfile)
    {
        var stages = new List<Stage>();
        List<string>? current = null;
        foreach (var raw in JoinContinuations(File.ReadAllLines(Path.Combine(ConfigFiles.Root, dockerfile))))
        {
            var line = raw.Trim();
            if (line.StartsWith('#') || line.Length == 0) continue;
            if (line.StartsWith("FROM ", StringComparison.Ordinal))
            {
                current = [];
                var name = line.Split(" AS ", StringSplitOptions.TrimEntries) is [_, var alias] ? alias : $"#{stages.Count}";
                stages.Add(new Stage(name, current));
            }
            current?.Add(line);
        }
        return stages;
    }

    private static IEnumerable<string> JoinContinuations(IEnumerable<string> lines)
    {
        var pending = "";
        foreach (var line in lines)
        {
            if (line.TrimEnd().EndsWith('\\')) { pending += line.TrimEnd()[..^1] + " "; continue; }
            yield return pending + line;
            pending = "";
        }
    }

    /// <summary>The project and every project it references, transitively, as paths relative to the checkout.</summary>
    private static IReadOnlySet<string> ProjectClosure(string project)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([project]);
        while (pending.TryPop(out var next))
        {
            if (!seen.Add(next)) continue;
            var directory = Path.GetDirectoryName(Path.Combine(ConfigFiles.Root, next))!;
            foreach (var reference in XDocument.Load(Path.Combine(ConfigFiles.Root, next)).Descendants("ProjectReference"))
            {
                var full = Path.GetFullPath(Path.Combine(directory, (string)reference.Attribute("Include")!));
                pending.Push(Path.GetRelativePath(ConfigFiles.Root, full).Replace('\\', '/'));
            }
        }
        return seen;
    }

    private static string AssemblyName(string project) =>
        XDocument.Load(Path.Combine(ConfigFiles.Root, project)).Descendants("AssemblyName").Single().Value;

    [GeneratedRegex(@"dotnet publish (?<project>\S+\.csproj)")]
    private static partial Regex PublishCommand();

    [GeneratedRegex(@"^COPY (?<source>[^\s-][^\s]*) ")]
    private static partial Regex CopyCommand();
}
