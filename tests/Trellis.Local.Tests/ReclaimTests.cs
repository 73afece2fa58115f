using System.Diagnostics;
using System.Text.RegularExpressions;
using k8s;
using k8s.Models;
using Trellis.Local.Connectivity;
using Trellis.Local.Kubelet;
using Trellis.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Trellis.Local.Tests;

/// <summary>
/// A cluster for the agents' reclaim of leaked addresses: 2 nodes with one seed pod each, /28
/// blocks (13 pod addresses per node) so a node fills with a dozen pods, and a grace period of
/// 5 s so a reclaim happens within a test. maxBlocksPerNode 1: a full node stays full (no extra block) until its leaks are freed.
/// </summary>
public sealed class ReclaimCluster : IDisposable
{
    public const int Grace = 5;
    public const int BlockCapacity = 13;

    private const string Network = """
        apiVersion: trellis.io/v1alpha1
        kind: PodNetwork
        metadata:
          name: default
        spec:
          cidrs: [10.251.0.0/26]
          blockSize: {ipv4: 28}
          routing: {mode: Auto}
          maxBlocksPerNode: 1
        """;

    private readonly string _networkFile = Path.Combine(Path.GetTempPath(), $"trellis-reclaim-cluster-{Guid.NewGuid():N}.yaml");
    private readonly Process _up;

    public ReclaimCluster()
    {
        File.WriteAllText(_networkFile, Network);
        Run = new LocalClusterRun();
        _up = Run.StartUp("--nodes", "2", "--pods-per-node", "1", "--routing", "Auto", "--network", _networkFile, "--reclaim-grace-period", $"{Grace}s");
        Client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(Run.Kubeconfig));
    }

    public LocalClusterRun Run { get; }
    public Kubernetes Client { get; }

    public void Apply(string yaml) => Run.Apply(yaml);

    public IList<V1Pod> PodsOn(string node) => Client.CoreV1.ListPodForAllNamespaces(fieldSelector: $"spec.nodeName={node}").Items;

    /// <summary>Every address the node's IPAM holds (one file per address in use, named by it), in order.</summary>
    public IReadOnlyList<string> Addresses(string node) => Run.IpamAddresses(node);

    public string AgentLog(string node) => File.ReadAllText(Path.Combine(Run.StateDirectory, "nodes", node, "agent.log"));

    /// <summary>What the node's NodeSubnet status counts as reclaimed.</summary>
    public long Reclaimed(string node) =>
        long.TryParse(Run.Kubectl("get", "nodesubnet", $"default.{node}", "-o", "jsonpath={.status.addressesReclaimed}"), out var count) ? count : 0;

    public void Dispose()
    {
        Client.Dispose();
        if (!_up.HasExited) _up.Kill();
        _up.WaitForExit();
        Run.Dispose();
        File.Delete(_networkFile);
    }
}

/// <summary>The agent frees the addresses pods left behind (a reboot, a missed DEL), and nothing else.</summary>
public sealed class ReclaimTests(ReclaimCluster cluster, ITestOutputHelper output) : IClassFixture<ReclaimCluster>
{
    private static string Pods(string ns, string node, int count) => PodManifests.OnNode(ns, node, count);

    /// <summary>The trellis-cni configuration of a node's conflist, as a runtime hands it to the plugin.</summary>
    private System.Text.Json.Nodes.JsonObject PluginConfig(string node)
    {
        var list = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(NodeDirectory(node), "cni", "net.d", "10-trellis.conflist")))!.AsObject();
        var config = list["plugins"]![0]!.DeepClone().AsObject();
        config["name"] = list["name"]!.DeepClone();
        config["cniVersion"] = list["cniVersion"]!.DeepClone();
        return config;
    }

    /// <summary>Runs the node's installed trellis-cni in the node's namespace, as its runtime would.</summary>
    private CommandResult RunPlugin(string node, System.Text.Json.Nodes.JsonObject config, Dictionary<string, string> environment) =>
        Shell.Run("ip", ["netns", "exec", $"{cluster.Run.Prefix}-{node}", Path.Combine(NodeDirectory(node), "cni", "bin", "trellis-cni")], config.ToJsonString(), environment);

    private string NodeDirectory(string node) => Path.Combine(cluster.Run.StateDirectory, "nodes", node);

    private IReadOnlyList<string> RunningAddresses(string node) =>
        cluster.PodsOn(node).Where(p => p.Spec.HostNetwork != true).Select(p => PodEndpoint.From(p, out _)?.Addresses.Single().ToString()).OfType<string>().Order().ToList();

    private static string? Sandbox(V1Pod pod) => PodStatusReport.Annotation(pod.Metadata, PodStatusReport.SandboxAnnotation);

    private Dictionary<string, string?> Sandboxes(string node) =>
        cluster.PodsOn(node).Where(p => p.Spec.HostNetwork != true).ToDictionary(p => p.Metadata.Uid, Sandbox);

    private void AssertHoldsExactlyItsPodsAddresses(string node, int within)
    {
        var watch = Stopwatch.StartNew();
        LocalClusterRun.Eventually(() => cluster.PodsOn(node).All(p => PodEndpoint.From(p, out _) is not null) && cluster.Addresses(node).SequenceEqual(RunningAddresses(node)),
            $"{node}'s IPAM holds exactly its running pods' addresses ({string.Join(", ", RunningAddresses(node))}), not {string.Join(", ", cluster.Addresses(node))}", within);
        output.WriteLine($"{node}: IPAM converged {watch.Elapsed.TotalSeconds:0.0} s after the check began");
    }

    [Fact]
    public void Pods_deleted_while_the_agent_is_stopped_and_lost_without_DEL_have_their_addresses_reclaimed_after_it_restarts()
    {
        cluster.Apply(Pods("gone", "node2", 4));
        LocalClusterRun.Eventually(() => cluster.PodsOn("node2").Count(p => p.Metadata.NamespaceProperty == "gone" && PodEndpoint.From(p, out _) is not null) == 4, "4 pods run on node2", 120);
        var leaked = cluster.PodsOn("node2").Where(p => p.Metadata.NamespaceProperty == "gone").Select(p => p.Status.PodIP).ToList();
        var seed = cluster.PodsOn("node2").Single(p => p.Metadata.NamespaceProperty == "default");
        var reclaimedBefore = cluster.Reclaimed("node2");

        // The agent is down while the pods go; the kubelet too, so it never runs their DEL; then the node loses its sandboxes.
        Assert.True(cluster.Run.Run("node", "stop", "node2", "agent").Succeeded);
        Assert.True(cluster.Run.Run("node", "stop", "node2", "kubelet", "--kill").Succeeded);
        cluster.Run.Kubectl("delete", "pod", "-n", "gone", "--all", "--force", "--grace-period=0");
        Assert.All(leaked, a => Assert.Contains(a, cluster.Addresses("node2")));
        var reboot = cluster.Run.Run("node", "reboot", "node2");
        output.WriteLine(reboot.StandardOutput + reboot.StandardError);
        Assert.True(reboot.Succeeded, reboot.StandardError);

        // The seed pod got a new sandbox and address; its old one, and the four deleted pods', are stale: freed after one grace period (plus a pass).
        AssertHoldsExactlyItsPodsAddresses("node2", ReclaimCluster.Grace * 4);
        Assert.All(leaked, a => Assert.DoesNotContain(a, cluster.Addresses("node2")));
        var log = cluster.AgentLog("node2");
        foreach (var address in leaked)
            Assert.Matches($@"reclaimed {Regex.Escape(address)} of pod gone/p\d \(uid [0-9a-f-]+\) \(container \S+ interface eth0\): the pod is gone", log);
        Assert.Matches($@"reclaimed {Regex.Escape(seed.Status.PodIP)} of pod default/{seed.Metadata.Name} .*: its sandbox is gone", log);
        LocalClusterRun.Eventually(() => cluster.Reclaimed("node2") == reclaimedBefore + 5, "node2's NodeSubnet counts the 5 reclaims", 30);
        var table = cluster.Run.Kubectl("get", "nodesubnets", "-o", "wide");
        output.WriteLine(table);
        Assert.Matches(@"(?m)^NAME\s.*\sRECLAIMED\s", table);
    }

    [Fact]
    public void An_allocation_whose_pod_has_not_reported_its_address_is_kept_and_freed_with_its_host_veth_once_the_pod_is_gone()
    {
        // node2's kubelet is stopped, so the pod stays Pending without an address while a sandbox made by hand holds one for it.
        Assert.True(cluster.Run.Run("node", "stop", "node2", "kubelet").Succeeded);
        try
        {
            cluster.Apply(Pods("waiting", "node2", 1));
            var pod = cluster.Client.CoreV1.ReadNamespacedPod("p1", "waiting");
            var sandbox = $"{cluster.Run.Prefix}-pod-byhand";
            Shell.RunChecked("ip", "netns", "add", sandbox);
            var add = RunPlugin("node2", PluginConfig("node2"),
                new Dictionary<string, string>
                {
                    ["CNI_COMMAND"] = "ADD", ["CNI_CONTAINERID"] = "byhand1", ["CNI_NETNS"] = $"/run/netns/{sandbox}", ["CNI_IFNAME"] = "eth0", ["CNI_PATH"] = "/nonexistent",
                    ["CNI_ARGS"] = $"IgnoreUnknown=1;K8S_POD_NAMESPACE=waiting;K8S_POD_NAME=p1;K8S_POD_INFRA_CONTAINER_ID=byhand1;K8S_POD_UID={pod.Metadata.Uid}",
                });
            Assert.True(add.Succeeded, add.StandardOutput + add.StandardError);
            var address = System.Text.Json.Nodes.JsonNode.Parse(add.StandardOutput)!["ips"]![0]!["address"]!.ToString().Split('/')[0];
            Assert.Contains(address, cluster.Addresses("node2"));

            Thread.Sleep(TimeSpan.FromSeconds(ReclaimCluster.Grace * 4));
            Assert.Null(cluster.Client.CoreV1.ReadNamespacedPod("p1", "waiting").Status?.PodIP);
            Assert.Contains(address, cluster.Addresses("node2"));
            Assert.True(Shell.Run("ip", "-n", sandbox, "link", "show", "eth0").Succeeded, "the sandbox keeps its interface");
            Assert.DoesNotContain($"reclaimed {address} ", cluster.AgentLog("node2"));

            // The pod goes (its kubelet never learns of it): the address is freed and the host veth deleted, which takes the pod end with it.
            cluster.Run.Kubectl("delete", "pod", "-n", "waiting", "p1", "--force", "--grace-period=0");
            cluster.Run.Kubectl("delete", "namespace", "waiting", "--wait=false");
            LocalClusterRun.Eventually(() => !cluster.Addresses("node2").Contains(address), $"{address} is freed once waiting/p1 is gone", ReclaimCluster.Grace * 4);
            Assert.False(Shell.Run("ip", "-n", sandbox, "link", "show", "eth0").Succeeded, "the host veth was deleted, and its pod end with it");
            Assert.Contains($"reclaimed {address} of pod waiting/p1 (uid {pod.Metadata.Uid}) (container byhand1 interface eth0): the pod is gone", cluster.AgentLog("node2"));
            Shell.Run("ip", "netns", "del", sandbox);
        }
        finally
        {
            Assert.True(cluster.Run.Run("node", "start", "node2", "kubelet").Succeeded);
        }
    }

    /// <summary>
    /// The runtime's CNI GC and the agent's reclaim work on one store at once: GC is called over and over, with the
    /// attachments of the node's running pods as cni.dev/valid-attachments, while the agent's grace period runs out on the
    /// same stale allocations. Each is freed once (by whichever holds it first), no live pod loses its address.
    /// </summary>
    [Fact]
    public void GC_called_beside_the_agents_reclaim_frees_every_stale_allocation_once_and_no_live_one()
    {
        cluster.Apply(Pods("collected", "node2", 3));
        LocalClusterRun.Eventually(() => cluster.PodsOn("node2").Count(p => p.Metadata.NamespaceProperty == "collected" && PodEndpoint.From(p, out _) is not null) == 3, "3 pods run on node2", 120);
        var leaked = cluster.PodsOn("node2").Where(p => p.Metadata.NamespaceProperty == "collected").Select(p => p.Status.PodIP).ToList();
        Assert.True(cluster.Run.Run("node", "stop", "node2", "kubelet", "--kill").Succeeded);
        cluster.Run.Kubectl("delete", "pod", "-n", "collected", "--all", "--force", "--grace-period=0");
        var sandboxesBefore = Sandboxes("node2");
        var reboot = cluster.Run.Run("node", "reboot", "node2");
        Assert.True(reboot.Succeeded, reboot.StandardError);
        // Until the restarted kubelet has given a pod its new sandbox, its status still shows the address it had before the reboot.
        LocalClusterRun.Eventually(() => cluster.PodsOn("node2").Where(p => p.Spec.HostNetwork != true)
            .All(p => PodEndpoint.From(p, out _) is not null && Sandbox(p) != sandboxesBefore.GetValueOrDefault(p.Metadata.Uid)), "node2's pods run again, each in a new sandbox", 60);
        var live = RunningAddresses("node2");
        var stale = cluster.Addresses("node2").Except(live).ToList();
        output.WriteLine($"live {string.Join(", ", live)}; stale {string.Join(", ", stale)}");

        var config = PluginConfig("node2");
        config["cniVersion"] = "1.1.0";
        var dataDirectory = (string)config["ipam"]!["dataDir"]!;
        int calls = 0;
        var watch = Stopwatch.StartNew();
        while (cluster.Addresses("node2").Count > live.Count && watch.Elapsed < TimeSpan.FromSeconds(ReclaimCluster.Grace * 4))
        {
            var valid = new System.Text.Json.Nodes.JsonArray(Trellis.Ipam.AllocationStore.ReadAllocations(dataDirectory, Trellis.Ipam.NodeContract.NetworkName)
                .Where(a => live.Contains(a.Address.ToString()) && a.Owner is not null)
                .Select(a => (System.Text.Json.Nodes.JsonNode)new System.Text.Json.Nodes.JsonObject { ["containerID"] = a.Owner!.ContainerId, ["ifname"] = a.Owner.IfName })
                .ToArray());
            Assert.Equal(live.Count, valid.Count);
            config["cni.dev/valid-attachments"] = valid;
            var gc = RunPlugin("node2", config, new Dictionary<string, string> { ["CNI_COMMAND"] = "GC", ["CNI_PATH"] = "/nonexistent" });
            Assert.True(gc.Succeeded, gc.StandardOutput + gc.StandardError);
            calls++;
            Thread.Sleep(300);
        }
        output.WriteLine($"{calls} GC calls over {watch.Elapsed.TotalSeconds:0.0} s");
        Assert.Equal(live, cluster.Addresses("node2"));
        Assert.Equal(live, RunningAddresses("node2"));
        // Whatever the reclaim freed was stale, and freed once.
        var reclaims = Regex.Matches(cluster.AgentLog("node2"), @"reclaimed (\S+) of pod collected/").Select(m => m.Groups[1].Value).ToList();
        Assert.All(reclaims, a => Assert.Contains(a, leaked));
        Assert.Equal(reclaims.Count, reclaims.Distinct().Count());
        cluster.Run.Kubectl("delete", "namespace", "collected", "--wait=false");
    }

    [Fact]
    public void A_full_node_rebooted_twice_serves_every_pod_again_and_holds_only_their_addresses()
    {
        // node1's /28 holds 13: its seed pod and 12 more fill it.
        cluster.Apply(Pods("full", "node1", ReclaimCluster.BlockCapacity - 1));
        LocalClusterRun.Eventually(() => RunningAddresses("node1").Count == ReclaimCluster.BlockCapacity, "node1 is full", 180);
        Assert.Equal(ReclaimCluster.BlockCapacity, cluster.Addresses("node1").Count);

        for (int reboot = 1; reboot <= 2; reboot++)
        {
            var before = RunningAddresses("node1");
            // Every pod needs a new address while the block is full of the old sandboxes' until the agent frees them.
            var result = cluster.Run.Run("node", "reboot", "node1");
            output.WriteLine(result.StandardOutput + result.StandardError);
            Assert.True(result.Succeeded, $"reboot {reboot}: {result.StandardError}");
            AssertHoldsExactlyItsPodsAddresses("node1", ReclaimCluster.Grace * 4);
            Assert.Equal(ReclaimCluster.BlockCapacity, RunningAddresses("node1").Count);
            output.WriteLine($"reboot {reboot}: {string.Join(", ", before)} → {string.Join(", ", RunningAddresses("node1"))}");
        }
        Assert.Contains("its sandbox is gone", cluster.AgentLog("node1"));
        cluster.Run.Kubectl("delete", "namespace", "full", "--wait=false");
    }
}
