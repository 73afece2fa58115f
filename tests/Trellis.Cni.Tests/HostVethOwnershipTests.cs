using System.Text.Json.Nodes;
using Trellis.Testing;
using Xunit;

namespace Trellis.Cni.Tests;

/// <summary>
/// Issue 8, defect 5: a host veth is deleted only by its own attachment, and a name already
/// held by another pod's link makes the plugin pick another name. The tests learn the host
/// name from a first ADD and then hand it to a link of someone else (another pod's marked
/// host end, or an unmarked veth of another plugin), as a collision would: ADD retried, DEL
/// and GC must all leave that link alone.
/// </summary>
public sealed class HostVethOwnershipTests
{
    private const string ForeignMark = "trellis-cni someone-else/eth0";

    [Theory]
    [InlineData(ForeignMark)]
    [InlineData(null)]
    public void AnAddRetriedWhileAnotherLinkHoldsItsHostNameLeavesThatLinkAndTakesAnother(string? foreignAlias)
    {
        using var node = new PluginNode();
        using var pod = NetworkNamespace.Create("pod");
        var config = node.Config();
        var first = HostName(node.Add("mine", pod, config));

        TakeOver(node, first, foreignAlias, "other0");
        var retried = node.Add("mine", pod, config);
        var second = HostName(retried);
        Assert.NotEqual(first, second);
        AssertForeign(node, first, foreignAlias, "other0");
        Assert.Contains("alias trellis-cni mine/eth0", node.Namespace.Exec("ip", "-d", "link", "show", second));
        Assert.Contains($"inet {retried.Addresses()[0]}", pod.Exec("ip", "addr", "show", "eth0"));
        Assert.True(node.Namespace.Ping(retried.Addresses()[0].Split('/')[0]));

        node.Del("mine", pod.Path, config).Succeeded();
        AssertForeign(node, first, foreignAlias, "other0");
        Assert.False(node.Namespace.Run("ip", "link", "show", second).Succeeded, $"{second} survived DEL");
        Assert.Empty(node.AllocationFiles());
    }

    [Theory]
    [InlineData(ForeignMark)]
    [InlineData(null)]
    public void DelAndGcLeaveALinkOfTheirNameAlone(string? foreignAlias)
    {
        using var node = new PluginNode();
        using var pod1 = NetworkNamespace.Create("pod1");
        using var pod2 = NetworkNamespace.Create("pod2");
        var config = node.Config(version: "1.1.0");

        var deleted = HostName(node.Add("deleted", pod1, config));
        TakeOver(node, deleted, foreignAlias, "other0");
        node.Del("deleted", pod1.Path, config).Succeeded();
        node.Del("deleted", null, config).Succeeded();
        AssertForeign(node, deleted, foreignAlias, "other0");

        var collected = HostName(node.Add("collected", pod2, config));
        TakeOver(node, collected, foreignAlias, "other1");
        node.Run(PluginNode.Environment("GC", null, null, null), PluginNode.With(config, "cni.dev/valid-attachments", new JsonArray())).Succeeded();
        AssertForeign(node, collected, foreignAlias, "other1");
        Assert.Empty(node.AllocationFiles());
    }

    [Fact]
    public void AHostEndLeftUnmarkedByAKilledAddIsStillRecognisedThroughItsPeer()
    {
        using var node = new PluginNode();
        using var pod = NetworkNamespace.Create("pod");
        var config = node.Config();
        var name = HostName(node.Add("mine", pod, config));
        // As if the plugin had been killed between creating the pair and marking it.
        node.Namespace.Exec("ip", "link", "set", name, "alias", "");
        Assert.DoesNotContain("alias", node.Namespace.Exec("ip", "-d", "link", "show", name));

        var again = node.Add("mine", pod, config);
        Assert.Equal(name, HostName(again));
        Assert.Contains("alias trellis-cni mine/eth0", node.Namespace.Exec("ip", "-d", "link", "show", name));

        node.Namespace.Exec("ip", "link", "set", name, "alias", "");
        node.Del("mine", pod.Path, config).Succeeded();
        Assert.Equal(["lo", "trellis0"], node.LinkNames());
        Assert.Equal(["lo"], PluginNode.LinkNamesIn(pod));
    }

    private static string HostName(PluginRun add) => (string)add.Succeeded()["interfaces"]![0]!["name"]!;

    /// <summary>The attachment's host end goes (its pod end with it) and another's link takes its name.</summary>
    private static void TakeOver(PluginNode node, string name, string? alias, string peer)
    {
        node.Namespace.Exec("ip", "link", "del", name);
        node.Namespace.Exec("ip", "link", "add", name, "type", "veth", "peer", "name", peer);
        if (alias is not null) node.Namespace.Exec("ip", "link", "set", name, "alias", alias);
    }

    private static void AssertForeign(PluginNode node, string name, string? alias, string peer)
    {
        var shown = node.Namespace.Run("ip", "-d", "link", "show", name);
        Assert.True(shown.Succeeded, $"the other link {name} was deleted");
        Assert.Contains($"{name}@{peer}", shown.StandardOutput);
        if (alias is not null) Assert.Contains($"alias {alias}", shown.StandardOutput);
    }
}
