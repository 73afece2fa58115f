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
