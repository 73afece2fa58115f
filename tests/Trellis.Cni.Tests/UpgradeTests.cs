using System.Text.Json.Nodes;
using Trellis.Ipam;
using Trellis.Linux;
using Trellis.Testing;
using Xunit;

namespace Trellis.Cni.Tests;

/// <summary>
/// A node upgraded in place keeps its allocations: the state the plugin left before the store
/// moved to Trellis.Ipam (records "containerID\nifname", a cursor of plain text, unmarked host
/// veths named veth+8 hex, even a "reserving" staging file a crash left as a second name of a
/// record) is made here exactly as that plugin made it, and the new plugin must never hand
/// those addresses out, must CHECK, DEL and GC those pods, and must undo the crash's leftover.
/// </summary>
public sealed class UpgradeTests
{
    private static readonly Attachment Old1 = new("old1", "eth0");
    private static readonly Attachment Old2 = new("old2", "eth0");

    [Fact]
    public void AllocationsOfTheFormerPluginAreKeptCheckedFreedAndNeverGivenTwice()
    {
        using var node = new PluginNode();
        using var old1 = NetworkNamespace.Create("old1");
        using var old2 = NetworkNamespace.Create("old2");
        using var fresh = NetworkNamespace.Create("fresh");
        var config = node.Config("""[[{"subnet":"10.244.1.0/29"}]]""", version: "1.1.0");

        node.Namespace.Exec("ip", "link", "add", "trellis0", "type", "bridge");
        node.Namespace.Exec("ip", "addr", "add", "10.244.1.1/29", "dev", "trellis0");
        node.Namespace.Exec("ip", "link", "set", "trellis0", "up");
        WireAsTheFormerPluginDid(node, old1, Old1, "10.244.1.2/29");
        WireAsTheFormerPluginDid(node, old2, Old2, "10.244.1.3/29");
        Directory.CreateDirectory(node.StoreDir);
        File.WriteAllText(Path.Combine(node.StoreDir, "10.244.1.2"), "old1\neth0");
        File.WriteAllText(Path.Combine(node.StoreDir, "10.244.1.3"), "old2\neth0");
        Assert.Equal(0, LibC.LinkAt(LibC.AT_FDCWD, Path.Combine(node.StoreDir, "10.244.1.3"), LibC.AT_FDCWD, Path.Combine(node.StoreDir, "reserving"), 0));
        File.WriteAllText(Path.Combine(node.StoreDir, "last_reserved_ip.0"), "10.244.1.3");
        File.WriteAllText(Path.Combine(node.StoreDir, "lock"), "");

        // A new pod gets the next free address, after the former cursor; the staging leftover goes.
        Assert.Equal(["10.244.1.4/29"], node.Add("new1", fresh, config).Addresses());
        Assert.False(File.Exists(Path.Combine(node.StoreDir, "reserving")));
        using (var record = FileDescriptor.Open(Path.Combine(node.StoreDir, "10.244.1.3"), OpenFlags.ReadOnly))
            Assert.Equal(1UL, record.Status().LinkCount);

        // CHECK passes for a pod the former plugin made.
        var previous = JsonNode.Parse($$"""
            {"cniVersion":"1.1.0","interfaces":[{"name":"{{HostInterface.LegacyName(Old1)}}"},{"name":"eth0","sandbox":"{{old1.Path}}"}],
             "ips":[{"address":"10.244.1.2/29","gateway":"10.244.1.1","interface":1}]}
            """)!;
        node.Run(PluginNode.Environment("CHECK", "old1", old1.Path), PluginNode.With(config, "prevResult", previous)).Succeeded();

        // GC frees what the runtime no longer lists, unmarked former veth included; DEL the rest.
        var valid = new JsonArray
        {
            new JsonObject { ["containerID"] = "old1", ["ifname"] = "eth0" },
            new JsonObject { ["containerID"] = "new1", ["ifname"] = "eth0" },
        };
        node.Run(PluginNode.Environment("GC", null, null, null), PluginNode.With(config, "cni.dev/valid-attachments", valid)).Succeeded();
        Assert.Equal(["10.244.1.2", "10.244.1.4"], node.AllocationFiles().Order());
        Assert.False(node.Namespace.Run("ip", "link", "show", HostInterface.LegacyName(Old2)).Succeeded, "GC left the former plugin's veth of old2");
        Assert.True(old1.Ping("10.244.1.4"), "the old pod lost its network when the new plugin took over");

        node.Del("old1", old1.Path, config).Succeeded();
        Assert.Equal(["lo"], PluginNode.LinkNamesIn(old1));
        Assert.Equal(["10.244.1.4"], node.AllocationFiles());

        // The freed addresses are handed out again, once each.
        using var again1 = NetworkNamespace.Create("again1");
        using var again2 = NetworkNamespace.Create("again2");
        var given = node.Add("new2", again1, config).Addresses().Concat(node.Add("new3", again2, config).Addresses()).ToList();
        Assert.Equal(["10.244.1.5/29", "10.244.1.6/29"], given);
        foreach (var id in new[] { "new1", "new2", "new3" }) node.Del(id, null, config).Succeeded();
        Assert.Empty(node.AllocationFiles());
        Assert.Equal(["lo", "trellis0"], node.LinkNames());
    }

    /// <summary>The pair, the pod's address and route, attached and up, named and unmarked as the former plugin left them.</summary>
    private static void WireAsTheFormerPluginDid(PluginNode node, NetworkNamespace pod, Attachment owner, string address)
    {
        var host = HostInterface.LegacyName(owner);
        node.Namespace.Exec("ip", "link", "add", host, "type", "veth", "peer", "name", "eth0", "netns", pod.Name);
        node.Namespace.Exec("ip", "link", "set", host, "master", "trellis0", "up");
        pod.Exec("ip", "addr", "add", address, "dev", "eth0");
        pod.Exec("ip", "link", "set", "eth0", "up");
        pod.Exec("ip", "route", "add", "default", "via", "10.244.1.1", "dev", "eth0");
    }
}
