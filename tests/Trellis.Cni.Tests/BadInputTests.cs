using Trellis.Cni.Spec;
using Trellis.Testing;
using Xunit;

namespace Trellis.Cni.Tests;

/// <summary>Bad input through the real binary: the spec's error JSON, a non-zero exit, and nothing created.</summary>
public sealed class BadInputTests
{
    private const string GoodRanges = """[[{"subnet":"10.244.1.0/24"}]]""";

    public static TheoryData<string, string, int> BadConfigs => new()
    {
        { "not json", "{\"cniVersion\":", CniErrorCode.DecodingFailure },
        { "not an object", "[1]", CniErrorCode.DecodingFailure },
        { "old version", "{\"cniVersion\":\"0.2.0\",\"name\":\"trellis\"}", CniErrorCode.IncompatibleVersion },
        { "bad CIDR", """[[{"subnet":"10.244.1.0/33"}]]""", CniErrorCode.InvalidConfig },
        { "host bits", """[[{"subnet":"10.244.1.9/24"}]]""", CniErrorCode.InvalidConfig },
        { "two IPv4 sets", """[[{"subnet":"10.244.1.0/24"}],[{"subnet":"10.244.2.0/24"}]]""", CniErrorCode.InvalidConfig },
        { "gateway outside", """[[{"subnet":"10.244.1.0/24","gateway":"10.9.9.9"}]]""", CniErrorCode.InvalidConfig },
        { "rangeStart outside", """[[{"subnet":"10.244.1.0/24","rangeStart":"10.244.2.5"}]]""", CniErrorCode.InvalidConfig },
        { "no ranges", "[]", CniErrorCode.InvalidConfig },
    };

    [Theory]
    [MemberData(nameof(BadConfigs))]
    public void BadConfigIsRefusedAndNothingIsCreated(string what, string rangesOrConfig, int code)
    {
        using var node = new PluginNode();
        using var pod = NetworkNamespace.Create("pod");
        var config = rangesOrConfig.StartsWith('[') && rangesOrConfig != "[1]" ? node.Config(rangesOrConfig) : rangesOrConfig;
        var message = node.Add("bad", pod, config).FailedWith(code);
        Assert.False(string.IsNullOrWhiteSpace(message), what);
        AssertNothingCreated(node, pod);
    }

    public static TheoryData<string, string?, string?, string?, string> BadEnvironments => new()
    {
        { "ADD", null, "pod", "eth0", "CNI_CONTAINERID" },
        { "ADD", "c1", null, "eth0", "CNI_NETNS" },
        { "ADD", "c1", "pod", null, "CNI_IFNAME" },
        { "ADD", "c1", "relative/netns", "eth0", "CNI_NETNS" },
        { "ADD", "../x", "pod", "eth0", "CNI_CONTAINERID" },
        { "ADD", "/", "pod", "eth0", "CNI_CONTAINERID" },
        { "ADD", "a/../../b", "pod", "eth0", "CNI_CONTAINERID" },
        { "ADD", "c1", "pod", "../x", "CNI_IFNAME" },
        { "ADD", "c1", "pod", "/", "CNI_IFNAME" },
        { "ADD", "c1", "pod", ".", "CNI_IFNAME" },
        { "ADD", "c1", "pod", "..", "CNI_IFNAME" },
        { "ADD", "c1", "pod", "sixteen-bytes-xx", "CNI_IFNAME" },
        { "ADD", "c1", "pod", "eth%d", "CNI_IFNAME" },
        { "DEL", "../x", "pod", "eth0", "CNI_CONTAINERID" },
        { "DEL", "c1", null, "a/b", "CNI_IFNAME" },
        { "CHECK", "c1", null, "eth0", "CNI_NETNS" },
        { "UPDATE", "c1", "pod", "eth0", "CNI_COMMAND" },
        { "", "c1", "pod", "eth0", "CNI_COMMAND" },
    };

    [Theory]
    [MemberData(nameof(BadEnvironments))]
    public void BadEnvironmentIsCode4AndNothingIsCreated(string command, string? containerId, string? netns, string? ifName, string named)
    {
        using var node = new PluginNode();
        using var pod = NetworkNamespace.Create("pod");
        var env = PluginNode.Environment(command, containerId, netns == "pod" ? pod.Path : netns, ifName);
        if (command.Length == 0) env.Remove("CNI_COMMAND");
        var message = node.Run(env, node.Config(GoodRanges)).FailedWith(CniErrorCode.InvalidEnvironment);
        Assert.Contains(named, message);
        AssertNothingCreated(node, pod);
    }

    [Fact]
    public void ANetnsThatDoesNotExistIsRefusedBeforeAnythingIsReserved()
    {
        using var node = new PluginNode();
        using var pod = NetworkNamespace.Create("pod");
        var env = PluginNode.Environment("ADD", "c1", "/run/netns/trellis-no-such-namespace");
        var message = node.Run(env, node.Config(GoodRanges)).FailedWith(CniErrorCode.InvalidEnvironment);
        Assert.Contains("/run/netns/trellis-no-such-namespace", message);
        AssertNothingCreated(node, pod);
    }

    /// <summary>
    /// Issue 8, defect 9: a FIFO hung the plugin until killed, the plugin's own namespace was
    /// wired as if it were a pod's, and a plain file was refused only after the bridge was made.
    /// Anything but another network namespace on nsfs is code 4 before anything is touched.
    /// </summary>
    [Theory]
    [InlineData("fifo")]
    [InlineData("plain file")]
    [InlineData("directory")]
    [InlineData("character device")]
    [InlineData("own namespace by /proc")]
    [InlineData("own namespace by name")]
    [InlineData("mount namespace")]
    public void ANetnsThatIsNotAPodsNetworkNamespaceIsCode4BeforeAnythingIsTouched(string kind)
    {
        using var node = new PluginNode();
        using var pod = NetworkNamespace.Create("pod");
        using var scratch = new TemporaryDirectory();
        var path = kind switch
        {
            "fifo" => Path.Combine(scratch.Path, "fifo"),
            "plain file" => Path.Combine(scratch.Path, "file"),
            "directory" => scratch.Path,
            "character device" => "/dev/null",
            "own namespace by /proc" => "/proc/self/ns/net",
            "own namespace by name" => node.Namespace.Path,
            _ => "/proc/self/ns/mnt",
        };
        if (kind == "fifo") Shell.RunChecked("mkfifo", path);
        if (kind == "plain file") File.WriteAllText(path, "not a namespace");

        foreach (var verb in new[] { "ADD", "CHECK" })
        {
            var config = verb == "ADD" ? node.Config(GoodRanges) : PluginNode.With(node.Config(GoodRanges), "prevResult", System.Text.Json.Nodes.JsonNode.Parse("""{"cniVersion":"1.0.0","interfaces":[],"ips":[]}""")!);
            var run = PluginRun.From(Shell.Run("ip", ["netns", "exec", node.Namespace.Name, PluginNode.PluginPath], config,
                PluginNode.Environment(verb, "c1", path), TimeSpan.FromSeconds(30)));
            var message = run.FailedWith(CniErrorCode.InvalidEnvironment);
            Assert.Contains($"CNI_NETNS {path}", message);
        }
        AssertNothingCreated(node, pod);
    }

    [Theory]
    [InlineData("junk")]
    [InlineData("K8S_POD_NAME=../../etc")]
    [InlineData("FOO=bar")]
    public void BadCniArgsAreCode4AndNothingIsCreated(string args)
    {
        using var node = new PluginNode();
        using var pod = NetworkNamespace.Create("pod");
        var env = PluginNode.Environment("ADD", "c1", pod.Path);
        env["CNI_ARGS"] = args;
        Assert.StartsWith("CNI_ARGS", node.Run(env, node.Config(GoodRanges)).FailedWith(CniErrorCode.InvalidEnvironment));
        AssertNothingCreated(node, pod);
    }

    [Fact]
    public void CheckAndStatusRefuseVersionsThatPredateThem()
    {
        using var node = new PluginNode();
        using var pod = NetworkNamespace.Create("pod");
        node.Run(PluginNode.Environment("CHECK", "c1", pod.Path), node.Config(version: "0.3.1")).FailedWith(CniErrorCode.IncompatibleVersion);
        node.Run(PluginNode.Environment("STATUS", null, null, null), node.Config(version: "1.0.0")).FailedWith(CniErrorCode.IncompatibleVersion);
        node.Run(PluginNode.Environment("GC", null, null, null), node.Config(version: "1.0.0")).FailedWith(CniErrorCode.IncompatibleVersion);
        AssertNothingCreated(node, pod);
    }

    private static void AssertNothingCreated(PluginNode node, NetworkNamespace pod)
    {
        Assert.Equal(["lo"], node.LinkNames());
        Assert.Equal(["lo"], PluginNode.LinkNamesIn(pod));
        Assert.Empty(Directory.EnumerateFileSystemEntries(node.DataDir));
    }
}
