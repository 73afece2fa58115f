using System.Text.Json.Nodes;
using Trellis.Crds.Yaml;
using Trellis.Local.Containers;
using Trellis.Testing;
using Xunit;

namespace Trellis.Local.Tests.Images;

/// <summary>The images scripts/images.sh builds from nothing, inspected and run with podman.</summary>
[Collection(ImageCollection.Name)]
public sealed class ImageTests(ImageBuild build)
{
    private static readonly string s_agent = TrellisImages.Reference(TrellisImages.Agent);
    private static readonly string s_operator = TrellisImages.Reference(TrellisImages.Operator);

    [PodmanFact]
    public void The_script_builds_both_images_from_scratch_and_prints_their_sizes()
    {
        var output = build.Output();
        foreach (var image in new[] { s_operator, s_agent })
        {
            Assert.Matches($@"(?m)^{System.Text.RegularExpressions.Regex.Escape(image)}\s+[0-9.]+ MiB$", output);
            // One layer, the assembled root filesystem: nothing came from a base image.
            Assert.Equal("1", Inspect(image, "{{len .RootFS.Layers}}"));
        }
        foreach (var dockerfile in new[] { "operator/Dockerfile", "node-agent/Dockerfile" })
            Assert.Equal(["FROM scratch"], File.ReadLines(Path.Combine(RepositoryRoot.Find(), dockerfile)).Where(l => l.StartsWith("FROM ", StringComparison.Ordinal)));
    }

    [PodmanFact]
    public void The_agent_image_carries_the_plugins_its_daemonset_installs_and_nft()
    {
        build.Output();
        var root = RepositoryRoot.Find();
        var daemonSet = YamlDocuments.LoadSingle(Path.Combine(root, "config", "agent", "daemonset.yaml"));
        var pluginSource = Argument(daemonSet, "agent", "--cni-plugin-source");
        WithMountedImage(s_agent, mounted =>
        {
            // The very plugin build-artifacts.sh published, at the path the DaemonSet names.
            Assert.Equal(File.ReadAllBytes(Path.Combine(root, "out", "cni", "trellis-cni")), File.ReadAllBytes(mounted + pluginSource));
            // The plugins the conflist chains after trellis-cni, beside it.
            Assert.True(File.Exists(Path.Combine(mounted + Path.GetDirectoryName(pluginSource), "portmap")), "portmap is not beside trellis-cni");
        });
        Assert.StartsWith("nftables v", RunChecked("--entrypoint", "/usr/sbin/nft", s_agent, "--version"));
        Assert.Contains("The Trellis node agent", RunChecked(s_agent, "--help"));
    }

    [PodmanFact]
    public void The_operator_image_runs_as_the_unprivileged_user_of_its_deployment()
    {
        build.Output();
        var deployment = YamlDocuments.LoadSingle(Path.Combine(RepositoryRoot.Find(), "config", "operator", "deployment.yaml"));
        var user = (long)deployment["spec"]!["template"]!["spec"]!["securityContext"]!["runAsUser"]!;
        Assert.Equal($"{user}:{user}", Inspect(s_operator, "{{.Config.User}}"));
        Assert.Contains("The Trellis operator", RunChecked(s_operator, "--help"));
    }

    private static string RunChecked(params string[] arguments) =>
        Podman.RunChecked(["run", "--rm", "--network", "none", .. Podman.RunArguments, .. arguments]);

    private static string Inspect(string image, string format) =>
        Podman.RunChecked(["image", "inspect", "--format", format, image]).Trim();

    private static void WithMountedImage(string image, Action<string> inspect)
    {
        var mounted = Podman.RunChecked(["image", "mount", image]).Trim();
        try { inspect(mounted); }
        finally { Podman.Run(["image", "unmount", image]); }
    }

    /// <summary>The value of a --flag=value argument of a container in a workload's pod template.</summary>
    internal static string Argument(JsonObject workload, string container, string flag) =>
        workload["spec"]!["template"]!["spec"]!["containers"]!.AsArray().Single(c => (string)c!["name"]! == container)!["args"]!.AsArray()
            .Select(a => (string)a!).Single(a => a.StartsWith(flag + "=", StringComparison.Ordinal))[(flag.Length + 1)..];
}
