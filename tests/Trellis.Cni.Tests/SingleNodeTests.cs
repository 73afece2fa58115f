using System.Text.Json.Nodes;
using Trellis.Cni.Spec;
using Trellis.Testing;
using Xunit;

namespace Trellis.Cni.Tests;

/// <summary>The plugin binary on one node in namespaces: wiring, CHECK, DEL, dual stack, exhaustion, GC, STATUS.</summary>
public sealed class SingleNodeTests
{
    [Fact]
    public void TwoPodsPingEachOtherAndTheGateway()
    {
        using var node = new PluginNode();
        using var pod1 = NetworkNamespace.Create("pod1");
        using var pod2 = NetworkNamespace.Create("pod2");
        var config = node.Config();

        var result1 = node.Add("pod1", pod1, config);
        var result2 = node.Add("pod2", pod2, config);
        Assert.Equal(["10.244.1.2/24"], result1.Addresses());
        Assert.Equal(["10.244.1.3/24"], result2.Addresses());

        var json = result1.Succeeded();
        Assert.Equal("1.0.0", (string?)json["cniVersion"]);
        var interfaces = json["interfaces"]!.AsArray();
        Assert.Equal(2, interfaces.Count);
        var hostVeth = (string)interfaces[0]!["name"]!;
        Assert.StartsWith("veth", hostVeth);
        Assert.Equal("eth0", (string?)interfaces[1]!["name"]);
        Assert.Equal(pod1.Path, (string?)interfaces[1]!["sandbox"]);
        Assert.Equal(1, (int?)json["ips"]![0]!["interface"]);
        Assert.Equal("10.244.1.1", (string?)json["ips"]![0]!["gateway"]);
        Assert.Null(json["ips"]![0]!["version"]);
        Assert.Equal("0.0.0.0/0", (string?)json["routes"]![0]!["dst"]);

        // The kernel, through iproute2, agrees with the result.
        Assert.Contains("inet 10.244.1.1/24", node.Namespace.Exec("ip", "addr", "show", "trellis0"));
        Assert.Contains("master trellis0", node.Namespace.Exec("ip", "link", "show", hostVeth));
        Assert.Contains((string)interfaces[1]!["mac"]!, pod1.Exec("ip", "link", "show", "eth0"));
        Assert.Contains("inet 10.244.1.2/24", pod1.Exec("ip", "addr", "show", "eth0"));
        Assert.Contains("default via 10.244.1.1 dev eth0", pod1.Exec("ip", "route"));
        Assert.Contains("mtu 1500", pod1.Exec("ip", "link", "show", "eth0"));

        Assert.True(pod1.Ping("10.244.1.3"), "pod1 cannot reach pod2");
        Assert.True(pod2.Ping("10.244.1.2"), "pod2 cannot reach pod1");
        Assert.True(pod1.Ping("10.244.1.1"), "pod1 cannot reach the gateway");
        Assert.True(node.Namespace.Ping("10.244.1.3"), "the node cannot reach pod2");

        node.Del("pod1", pod1.Path, config).Succeeded();
        node.Del("pod2", pod2.Path, config).Succeeded();
        Assert.Equal(["lo", "trellis0"], node.LinkNames());
        Assert.Empty(node.AllocationFiles());
    }

    [Fact]
    public void AnAddRepeatedForTheSameContainerGivesTheSameAddress()
    {
        using var node = new PluginNode();
        using var pod = NetworkNamespace.Create("pod");
        var config = node.Config();
        var first = node.Add("again", pod, config).Addresses();
        var second = node.Add("again", pod, config).Addresses();
        Assert.Equal(first, second);
        Assert.Single(node.AllocationFiles());
        Assert.True(node.Namespace.Ping("10.244.1.2"));
        node.Del("again", pod.Path, config).Succeeded();
    }

    [Fact]
    public void AFreedAddressIsNotReusedWhileOthersAreFree()
    {
        using var node = new PluginNode();
        using var pod1 = NetworkNamespace.Create("pod1");
        using var pod2 = NetworkNamespace.Create("pod2");
        var config = node.Config();
        Assert.Equal(["10.244.1.2/24"], node.Add("p1", pod1, config).Addresses());
        node.Del("p1", pod1.Path, config).Succeeded();
        Assert.Equal(["10.244.1.3/24"], node.Add("p2", pod2, config).Addresses());
        node.Del("p2", pod2.Path, config).Succeeded();
    }

    [Fact]
    public void RangeStartAndEndAreHonoured()
    {
        using var node = new PluginNode();
        using var pod = NetworkNamespace.Create("pod");
        var config = node.Config("""[[{"subnet":"10.244.1.0/24","rangeStart":"10.244.1.200","rangeEnd":"10.244.1.210","gateway":"10.244.1.254"}]]""");
        Assert.Equal(["10.244.1.200/24"], node.Add("p", pod, config).Addresses());
        Assert.Contains("default via 10.244.1.254", pod.Exec("ip", "route"));
        Assert.True(pod.Ping("10.244.1.254"));
        node.Del("p", pod.Path, config).Succeeded();
    }

    [Theory]
    [InlineData("0.3.0")]
    [InlineData("0.3.1")]
    [InlineData("0.4.0")]
    [InlineData("1.1.0")]
    public void TheResultIsShapedForTheRequestedVersion(string version)
    {
        using var node = new PluginNode();
        using var pod = NetworkNamespace.Create("pod");
        var config = node.Config(version: version);
        var json = node.Add("v", pod, config).Succeeded();
        Assert.Equal(version, (string?)json["cniVersion"]);
        Assert.True(CniVersion.TryParse(version, out var v));
        Assert.Equal(v.IpsCarryVersion ? "4" : null, (string?)json["ips"]![0]!["version"]);
        node.Del("v", pod.Path, config).Succeeded();
    }

    [Fact]
    public void ChainedAfterAnotherPluginItKeepsThePreviousResultAndAppendsItsOwn()
    {
        using var node = new PluginNode();
        using var pod = NetworkNamespace.Create("pod");
        var previous = JsonNode.Parse("""
            {"cniVersion":"1.0.0","interfaces":[{"name":"other0","mac":"02:00:00:00:00:01","sandbox":"/run/netns/x"}],
             "ips":[{"address":"192.168.50.2/24","interface":0}],"routes":[],"dns":{"nameservers":["10.96.0.10"]}}
            """)!;
        var config = PluginNode.With(node.Config(), "prevResult", previous);
        var json = node.Add("chain", pod, config).Succeeded();
        var names = json["interfaces"]!.AsArray().Select(i => (string)i!["name"]!).ToList();
        Assert.Equal(3, names.Count);
        Assert.Equal("other0", names[0]);
        Assert.StartsWith("veth", names[1]);
        Assert.Equal("eth0", names[2]);
        Assert.Equal([0, 2], json["ips"]!.AsArray().Select(i => (int?)i!["interface"]));
        Assert.Equal("10.96.0.10", (string?)json["dns"]!["nameservers"]![0]);
        node.Del("chain", pod.Path, node.Config()).Succeeded();
    }

    [Fact]
    public void DualStackPodsPingEachOtherOverBothFamilies()
    {
        using var node = new PluginNode();
        using var pod1 = NetworkNamespace.Create("pod1");
        using var pod2 = NetworkNamespace.Create("pod2");
        var config = node.Config("""[[{"subnet":"10.244.1.0/24"}],[{"subnet":"fd00:10:244:1::/64"}]]""");
        Assert.Equal(["10.244.1.2/24", "fd00:10:244:1::2/64"], node.Add("d1", pod1, config).Addresses());
        Assert.Equal(["10.244.1.3/24", "fd00:10:244:1::3/64"], node.Add("d2", pod2, config).Addresses());
        Assert.Contains("default via fd00:10:244:1::1 dev eth0", pod1.Exec("ip", "-6", "route"));
        Assert.DoesNotContain("tentative", pod1.Exec("ip", "-6", "addr", "show", "eth0", "scope", "global"));
        Assert.True(pod1.Ping("10.244.1.3"));
        Assert.True(pod1.Run("ping", "-6", "-c", "1", "-W", "2", "-q", "fd00:10:244:1::3").Succeeded, "pod1 cannot reach pod2 over IPv6");
        Assert.True(pod2.Run("ping", "-6", "-c", "1", "-W", "2", "-q", "fd00:10:244:1::2").Succeeded, "pod2 cannot reach pod1 over IPv6");
        node.Del("d1", pod1.Path, config).Succeeded();
        node.Del("d2", pod2.Path, config).Succeeded();
        Assert.Empty(node.AllocationFiles());
    }

    [Theory]
    [InlineData("address", "ip", "addr", "del", "10.244.1.2/24", "dev", "eth0")]
    [InlineData("route", "ip", "route", "del", "default")]
    [InlineData("eth0", "ip", "link", "del", "eth0")]
    public void CheckPassesAndThenFailsOnceSomethingIsRemoved(string named, string tool, params string[] removal)
    {
        using var node = new PluginNode();
        using var pod = NetworkNamespace.Create("pod");
        var config = node.Config();
        var result = node.Add("chk", pod, config).Succeeded();
        var checkConfig = PluginNode.With(config, "prevResult", result);
        var check = PluginNode.Environment("CHECK", "chk", pod.Path);

        node.Run(check, checkConfig).Succeeded();
        pod.Exec(tool, removal);
        var message = node.Run(check, checkConfig).FailedWith(CniErrorCode.Internal);
        Assert.Contains(named, message);
        node.Del("chk", pod.Path, config).Succeeded();
    }

    [Fact]
    public void CheckFailsWhenTheAllocationIsGone()
    {
        using var node = new PluginNode();
        using var pod = NetworkNamespace.Create("pod");
        var config = node.Config();
        var result = node.Add("alloc", pod, config).Succeeded();
        File.Delete(Path.Combine(node.StoreDir, "10.244.1.2"));
        var message = node.Run(PluginNode.Environment("CHECK", "alloc", pod.Path), PluginNode.With(config, "prevResult", result))
            .FailedWith(CniErrorCode.Internal);
        Assert.Contains("not allocated", message);
        node.Del("alloc", pod.Path, config).Succeeded();
    }

    [Fact]
    public void DelIsIdempotent()
    {
        using var node = new PluginNode();
        var config = node.Config();

        node.Del("never-seen", "/run/netns/does-not-exist", config).Succeeded();
        node.Del("never-seen", null, config).Succeeded();

        using (var pod = NetworkNamespace.Create("pod"))
        {
            node.Add("twice", pod, config).Succeeded();
            node.Del("twice", pod.Path, config).Succeeded();
            node.Del("twice", pod.Path, config).Succeeded();
        }

        string gonePath;
        using (var gone = NetworkNamespace.Create("gone"))
        {
            node.Add("gone", gone, config).Succeeded();
            gonePath = gone.Path;
        }
        // The pod namespace is gone; its host veth stays until DEL finds it by its derived name.
        node.Del("gone", gonePath, config).Succeeded();
        node.Del("gone", null, config).Succeeded();
        Assert.Equal(["lo", "trellis0"], node.LinkNames());
        Assert.Empty(node.AllocationFiles());
    }

    /// <summary>Issue 8, defect 13: DEL needs no namespace, so one it cannot use (relative, not a namespace) is no reason to keep the pod's address.</summary>
    [Theory]
    [InlineData("relative/netns")]
    [InlineData("/dev/null")]
    [InlineData("/proc/self/ns/net")]
    public void DelIgnoresANetnsItCannotUse(string netns)
    {
        using var node = new PluginNode();
        using var pod = NetworkNamespace.Create("pod");
        var config = node.Config();
        node.Add("c1", pod, config).Succeeded();
        node.Del("c1", netns, config).Succeeded();
        Assert.Empty(node.AllocationFiles());
        Assert.Equal(["lo", "trellis0"], node.LinkNames());
        Assert.Equal(["lo"], PluginNode.LinkNamesIn(pod));
    }

    /// <summary>Issue 12: every allocation knows its pod, from CNI_ARGS as containerd sends it.</summary>
    [Fact]
    public void TheAllocationRecordsThePodNamedInCniArgs()
    {
        using var node = new PluginNode();
        using var pod = NetworkNamespace.Create("pod");
        var config = node.Config("""[[{"subnet":"10.244.1.0/24"}],[{"subnet":"fd00:10:244:1::/64"}]]""");
        var env = PluginNode.Environment("ADD", "sandbox1", pod.Path);
        env["CNI_ARGS"] = "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-1;K8S_POD_INFRA_CONTAINER_ID=sandbox1;K8S_POD_UID=8f1c6a2e-1b7d-4a55-9c1e-2f0d3b4a5c6d";
        var before = DateTimeOffset.UtcNow;
        node.Run(env, config).Succeeded();

        var records = node.Allocations();
        Assert.Equal(2, records.Count);
        Assert.All(records, a =>
        {
            Assert.Equal(new Trellis.Ipam.Attachment("sandbox1", "eth0"), a.Owner);
            Assert.Equal(new Trellis.Ipam.PodIdentity("default", "web-1", "8f1c6a2e-1b7d-4a55-9c1e-2f0d3b4a5c6d"), a.Record!.Pod);
            Assert.InRange(a.Record.Created!.Value, before.AddSeconds(-1), DateTimeOffset.UtcNow.AddSeconds(1));
        });
        node.Del("sandbox1", pod.Path, config).Succeeded();
    }

    [Fact]
    public void AnExhaustedRangeIsCode11AndLeavesNothingBehind()
    {
        using var node = new PluginNode();
        using var pod1 = NetworkNamespace.Create("pod1");
        using var pod2 = NetworkNamespace.Create("pod2");
        var config = node.Config("""[[{"subnet":"10.244.1.0/30"}]]""", version: "1.1.0");
        Assert.Equal(["10.244.1.2/30"], node.Add("only", pod1, config).Addresses());
        var linksBefore = node.LinkNames();

        var message = node.Add("extra", pod2, config).FailedWith(CniErrorCode.TryAgainLater);
        Assert.Contains("10.244.1.0/30", message);
        Assert.Equal(linksBefore, node.LinkNames());
        Assert.Equal(["lo"], PluginNode.LinkNamesIn(pod2));
        Assert.Equal(["10.244.1.2"], node.AllocationFiles());

        var status = node.Run(PluginNode.Environment("STATUS", null, null, null), config).FailedWith(CniErrorCode.PluginNotAvailable);
        Assert.Contains("exhausted", status);

        node.Del("only", pod1.Path, config).Succeeded();
        node.Run(PluginNode.Environment("STATUS", null, null, null), config).Succeeded();
    }

    [Fact]
    public void AnAddThatFailsAfterTheVethExistsRemovesItAndFreesTheAddresses()
    {
        using var node = new PluginNode();
        using var pod = NetworkNamespace.Create("pod");
        // New interfaces in this pod cannot take IPv6 addresses, so ADD fails after the veth is made and IPv4 is set.
        pod.Exec("sysctl", "-q", "-w", "net.ipv6.conf.default.disable_ipv6=1");
        var config = node.Config("""[[{"subnet":"10.244.1.0/24"}],[{"subnet":"fd00:10:244:1::/64"}]]""");

        var message = node.Add("fails", pod, config).FailedWith(CniErrorCode.Internal);
        // The kernel's refusal, with the pod's interface by name (not by its index in the pod).
        Assert.StartsWith("add address fd00:10:244:1::2/64 dev eth0: EACCES", message);
        Assert.Equal(["lo", "trellis0"], node.LinkNames());
        Assert.Equal(["lo"], PluginNode.LinkNamesIn(pod));
        Assert.Empty(node.AllocationFiles());
    }

    [Fact]
    public void AGatewayTheKernelRefusesIsReportedWithTheBridgeByNameAndLeavesNoPodBehind()
    {
        using var node = new PluginNode();
        using var pod = NetworkNamespace.Create("pod");
        // The node's bridge exists with IPv6 turned off on it, so its IPv6 gateway cannot be added.
        node.Namespace.Exec("ip", "link", "add", "trellis0", "type", "bridge");
        node.Namespace.Exec("sysctl", "-q", "-w", "net.ipv6.conf.trellis0.disable_ipv6=1");
        var config = node.Config("""[[{"subnet":"10.244.1.0/24"}],[{"subnet":"fd00:10:244:1::/64"}]]""");

        var run = node.Add("refused", pod, config);

        var message = run.FailedWith(CniErrorCode.Internal);
        Assert.StartsWith("add address fd00:10:244:1::1/64 dev trellis0: EACCES", message);
        Assert.Equal(["lo", "trellis0"], node.LinkNames());
        Assert.Equal(["lo"], PluginNode.LinkNamesIn(pod));
        Assert.Empty(node.AllocationFiles());
    }

    [Fact]
    public void ALinkOfAnotherKindUnderTheBridgeNameIsCode7AndIsLeftAlone()
    {
        using var node = new PluginNode();
        using var pod = NetworkNamespace.Create("pod");
        node.Namespace.Exec("ip", "link", "add", "trellis0", "type", "veth", "peer", "name", "spare0");

        var message = node.Add("c1", pod, node.Config()).FailedWith(CniErrorCode.InvalidConfig);

        Assert.Equal("bridge trellis0: a link of that name exists but is a veth, not a bridge", message);
        Assert.Equal(["lo", "spare0", "trellis0"], node.LinkNames().Order());
        Assert.DoesNotContain("10.244.1.1", node.Namespace.Exec("ip", "addr", "show", "dev", "trellis0"));
        Assert.Equal(["lo"], PluginNode.LinkNamesIn(pod));
        Assert.Empty(node.AllocationFiles());
    }

    [Fact]
    public void AnAddThatFailsBeforeTheVethFreesTheAddress()
    {
        using var node = new PluginNode();
        using var pod = NetworkNamespace.Create("pod");
        pod.Exec("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "spare0");
        var run = node.Add("taken", pod, node.Config());
        Assert.NotEqual(0, run.ExitCode);
        Assert.Empty(node.AllocationFiles());
        Assert.DoesNotContain(node.LinkNames(), name => name.StartsWith("veth", StringComparison.Ordinal));
    }

    [Fact]
    public void StatusIsCode50WithoutRanges()
    {
        using var node = new PluginNode();
        var message = node.Run(PluginNode.Environment("STATUS", null, null, null), node.Config("[]", version: "1.1.0"))
            .FailedWith(CniErrorCode.PluginNotAvailable);
        Assert.Contains("no address ranges", message);
        node.Run(PluginNode.Environment("STATUS", null, null, null), node.Config(version: "1.1.0")).Succeeded();
    }

    [Fact]
    public void GcFreesEveryAllocationNotInValidAttachments()
    {
        using var node = new PluginNode();
        using var keep = NetworkNamespace.Create("keep");
        using var drop1 = NetworkNamespace.Create("drop1");
        using var drop2 = NetworkNamespace.Create("drop2");
        var config = node.Config(version: "1.1.0");
        node.Add("keep", keep, config).Succeeded();
        node.Add("drop1", drop1, config).Succeeded();
        node.Add("drop2", drop2, config).Succeeded();
        Assert.Equal(5, node.LinkNames().Count);

        var valid = new JsonArray { new JsonObject { ["containerID"] = "keep", ["ifname"] = "eth0" } };
        node.Run(PluginNode.Environment("GC", null, null, null), PluginNode.With(config, "cni.dev/valid-attachments", valid)).Succeeded();

        Assert.Equal(["10.244.1.2"], node.AllocationFiles());
        Assert.Equal(3, node.LinkNames().Count);
        Assert.Equal(["lo"], PluginNode.LinkNamesIn(drop1));
        Assert.True(node.Namespace.Ping("10.244.1.2"));

        var refused = node.Run(PluginNode.Environment("GC", null, null, null), config).FailedWith(CniErrorCode.InvalidConfig);
        Assert.Contains("valid-attachments", refused);
        Assert.Equal(["10.244.1.2"], node.AllocationFiles());

        node.Run(PluginNode.Environment("GC", null, null, null), PluginNode.With(config, "cni.dev/valid-attachments", new JsonArray())).Succeeded();
        Assert.Empty(node.AllocationFiles());
        Assert.Equal(["lo", "trellis0"], node.LinkNames());
    }

    [Fact]
    public void VersionListsTheSupportedVersions()
    {
        using var node = new PluginNode();
        var json = node.Run(PluginNode.Environment("VERSION", null, null, null), """{"cniVersion":"0.4.0"}""").Succeeded();
        Assert.Equal("0.4.0", (string?)json["cniVersion"]);
        Assert.Equal(["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"], json["supportedVersions"]!.AsArray().Select(v => (string?)v));
    }
}
