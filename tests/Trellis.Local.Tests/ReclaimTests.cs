using System.Diagnostics;
using System.Text.RegularExpressions;
using k8s;
using k8s.Models;
using Trellis.Local.Connectivity;
using Trellis.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Trellis.Local.Tests;

/// <summary>
/// A cluster for the agents' reclaim of leaked addresses: 2 nodes with one seed pod each, /28
/// blocks (13 pod addresses per node) so a node fills with a dozen pods, and a grace period of
/// 5 s so a reclaim happens within a test.
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

    public void Apply(string yaml)
    {
        var file = Path.Combine(Path.GetTempPath(), $"trellis-reclaim-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(file, yaml);
        try { Run.Kubectl("apply", "--validate=false", "-f", file); }
        finally { File.Delete(file); }
    }

    public IList<V1Pod> PodsOn(string node) => Client.CoreV1.ListPodForAllNamespaces(fieldSelector: $"spec.nodeName={node}").Items;

    /// <summary>Every address the node's IPAM holds (one file per address in use, named by it), in order.</summary>
    public IReadOnlyList<string> Addresses(string node) =>
        Directory.EnumerateFiles(Path.Combine(Run.StateDirectory, "nodes", node, "lib"), "*", SearchOption.AllDirectories)
            .Select(Path.GetFileName).OfType<string>().Where(f => System.Net.IPAddress.TryParse(f, out _)).Order(StringComparer.Ordinal).ToList();

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
    private static string Pods(string ns, string node, int count) => string.Join("\n---\n",
        new[] { $"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}" }.Concat(Enumerable.Range(1, count).Select(i => $$"""
            apiVersion: v1
            kind: Pod
            metadata: {name: p{{i}}, namespace: {{ns}}}
            spec:
              nodeName: {{node}}
              containers:
              - name: serve
                image: registry.k8s.io/e2e-test-images/agnhost:2.52
                ports: [{containerPort: 80, protocol: TCP}]
            """)));

    private IReadOnlyList<string> RunningAddresses(string node) =>
        cluster.PodsOn(node).Where(p => p.Spec.HostNetwork != true).Select(p => PodEndpoint.From(p, out _)?.Addresses.Single().ToString()).OfType<string>().Order(StringComparer.Ordinal).ToList();

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
