using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using k8s;
using k8s.Models;
using Trellis.Addressing;
using Trellis.Local.Cluster;
using Trellis.Local.Connectivity;
using Trellis.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Trellis.Local.Tests;

/// <summary>
/// A node that runs out of addresses gets another block, and gives it back once it has stayed empty: 2 nodes with
/// /28 blocks (13 pod addresses each), an extra block released after 5 s instead of 10 minutes.
/// </summary>
public sealed class BlockGrowthTests(ITestOutputHelper output)
{
    private const int ReleaseAfterSeconds = 5;
    private const int PodCount = 20;

    private const string Network = """
        apiVersion: trellis.io/v1alpha1
        kind: PodNetwork
        metadata:
          name: default
        spec:
          cidrs: [10.252.0.0/26]
          blockSize: {ipv4: 28}
          routing: {mode: Auto}
          maxBlocksPerNode: 4
          blockGrowth: {releaseEmptyAfterSeconds: 5}
        """;

    [Fact]
    public async Task Twenty_pods_on_one_node_get_distinct_addresses_from_two_blocks_reach_other_nodes_and_the_extra_block_leaves_once_empty()
    {
        var networkFile = Path.Combine(Path.GetTempPath(), $"trellis-growth-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(networkFile, Network);
        using var run = new LocalClusterRun();
        var up = run.StartUp("--nodes", "2", "--pods-per-node", "1", "--routing", "Auto", "--network", networkFile);
        using var client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(run.Kubeconfig));
        try
        {
            IReadOnlyList<string> Blocks() => run.Kubectl("get", "nodesubnet", "default.node1", "-o", "jsonpath={.spec.cidrs[*]}")
                .Split(' ', StringSplitOptions.RemoveEmptyEntries);
            List<V1Pod> Grown() => client.CoreV1.ListNamespacedPod("grow").Items.ToList();
            LocalClusterRun.Eventually(() => Blocks().Count == 1, "node1 holds its first block", 60);
            var first = Cidr.Parse(Blocks()[0]);

            var watch = Stopwatch.StartNew();
            run.Apply(PodManifests.OnNode("grow", "node1", PodCount));
            LocalClusterRun.Eventually(() => Grown().Count(p => PodEndpoint.From(p, out _) is not null) == PodCount, $"{PodCount} pods run on node1", 90);
            output.WriteLine($"{PodCount} pods running {watch.Elapsed.TotalSeconds:0.0} s after they were applied");

            var blocks = Blocks().Select(Cidr.Parse).ToList();
            Assert.Equal(2, blocks.Count);
            Assert.Equal(first, blocks[0]);
            var addresses = Grown().Select(p => IPAddress.Parse(p.Status.PodIP)).ToList();
            Assert.Equal(PodCount, addresses.Distinct().Count());
            Assert.All(addresses, a => Assert.True(blocks.Any(b => b.Contains(a)), $"{a} lies in neither block"));
            Assert.All(blocks, b => Assert.Contains(addresses, b.Contains));
            Assert.Equal(run.IpamAddresses("node1").Order(), client.CoreV1.ListPodForAllNamespaces(fieldSelector: "spec.nodeName=node1").Items
                .Select(p => p.Status.PodIP).Order());

            // A pod of each block reaches node2's pod, and node2's pod reaches both.
            var target = SeedPods.NameOf("node2", 1);
            foreach (var block in blocks)
            {
                var pod = Grown().First(p => block.Contains(IPAddress.Parse(p.Status.PodIP)));
                var there = await PodProber.ProbeAsync(client, $"grow/{pod.Metadata.Name}", $"default/{target}", 80, "TCP", TimeSpan.FromSeconds(3), CancellationToken.None);
                Assert.True(there.Connected && there.Detail == $"default/{target}", $"grow/{pod.Metadata.Name} ({pod.Status.PodIP}) → default/{target}: {there}");
                var back = await PodProber.ProbeAsync(client, $"default/{target}", $"grow/{pod.Metadata.Name}", 80, "TCP", TimeSpan.FromSeconds(3), CancellationToken.None);
                Assert.True(back.Connected && back.Detail == $"grow/{pod.Metadata.Name}", $"default/{target} → grow/{pod.Metadata.Name} ({pod.Status.PodIP}): {back}");
            }

            // The agent reports usage at most 2 s after its store changes: the table catches up with the pods.
            LocalClusterRun.Eventually(() => Regex.IsMatch(run.Kubectl("get", "nodesubnets"), @"(?m)^default\.node1\s.*\s21\s+26\s"),
                "node1's NodeSubnet reports 21 of 26 addresses in use", 15);
            var table = run.Kubectl("get", "nodesubnets");
            output.WriteLine(table);
            Assert.Matches(@"(?m)^NAME\s.*\sIN-USE\s+CAPACITY\s", table);
            Assert.Matches(@"(?m)^default\.node1\s.*\s21\s+26\s", table);
            var networks = run.Kubectl("get", "podnetworks");
            output.WriteLine(networks);
            Assert.Matches(@"(?m)^default\s.*\s3\s+4\s", networks);

            // The pods go: the extra block is reported empty and leaves after its 5 s; the seed pod keeps the first.
            watch.Restart();
            run.Kubectl("delete", "namespace", "grow", "--wait=false");
            LocalClusterRun.Eventually(() => Blocks().SequenceEqual([first.ToString()]), "node1's extra block is released", 60);
            output.WriteLine($"extra block released {watch.Elapsed.TotalSeconds:0.0} s after the pods' deletion began");
            Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(ReleaseAfterSeconds), "released before its timeout");
            var seed = client.CoreV1.ReadNamespacedPod(SeedPods.NameOf("node1", 1), "default");
            Assert.True(first.Contains(IPAddress.Parse(seed.Status.PodIP)));
            var still = await PodProber.ProbeAsync(client, $"default/{seed.Metadata.Name}", $"default/{target}", 80, "TCP", TimeSpan.FromSeconds(3), CancellationToken.None);
            Assert.True(still.Connected, $"the seed pod in the first block still reaches node2: {still}");
            LocalClusterRun.Eventually(() => run.Kubectl("get", "podnetwork", "default", "-o", "jsonpath={.status.blocksAllocated}") == "2",
                "the PodNetwork counts 2 blocks again", 30);
            Assert.Empty(run.RefusedRequests());
        }
        finally
        {
            if (!up.HasExited) up.Kill();
            up.WaitForExit();
            File.Delete(networkFile);
        }
    }

    private const string ChurnNetwork = """
        apiVersion: trellis.io/v1alpha1
        kind: PodNetwork
        metadata:
          name: default
        spec:
          cidrs: [10.253.0.0/26]
          blockSize: {ipv4: 28}
          routing: {mode: Auto}
          maxBlocksPerNode: 2
          blockGrowth: {releaseEmptyAfterSeconds: 0}
        """;

    /// <summary>
    /// The race a one-step release lost, as an attacker runs it: two nodes share a pool of four /28 blocks; round after
    /// round each fills its first block past the threshold (it gets the pool's next block), then its pods go (the extra
    /// block is empty at once, with no wait) while the next round's pods are already being added. Extra blocks drain and
    /// move between the nodes under ADDs. A watcher compares each node's IPAM store with its NodeSubnet all along: no
    /// node ever holds an address outside its own blocks, no address is held on both nodes, and every pod of the last
    /// round runs with an address of its own.
    /// </summary>
    [Fact]
    public async Task Pods_added_while_extra_blocks_drain_and_change_nodes_never_hold_an_address_outside_their_node_s_blocks()
    {
        var networkFile = Path.Combine(Path.GetTempPath(), $"trellis-churn-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(networkFile, ChurnNetwork);
        using var run = new LocalClusterRun();
        var up = run.StartUp("--nodes", "2", "--pods-per-node", "1", "--routing", "Auto", "--network", networkFile);
        using var client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(run.Kubeconfig));
        string[] nodes = ["node1", "node2"];
        var violations = new List<string>();
        int looks = 0, moves = 0;
        using var stop = new CancellationTokenSource();
        try
        {
            // The blocks a node holds, when its NodeSubnet did not change while its store was read.
            var watcher = Task.Run(async () =>
            {
                var lastBlocks = new Dictionary<string, string>();
                while (!stop.IsCancellationRequested)
                {
                    var held = new Dictionary<string, IReadOnlyList<string>>();
                    foreach (var node in nodes)
                    {
                        var before = await client.CustomObjects.GetClusterCustomObjectAsync("trellis.io", "v1alpha1", "nodesubnets", $"default.{node}");
                        var addresses = run.IpamAddresses(node);
                        var after = await client.CustomObjects.GetClusterCustomObjectAsync("trellis.io", "v1alpha1", "nodesubnets", $"default.{node}");
                        var (version, blocks) = Blocks(before);
                        if (version != Blocks(after).Version) continue;
                        held[node] = addresses;
                        var text = string.Join(",", blocks);
                        if (lastBlocks.TryGetValue(node, out var last) && last != text) Interlocked.Increment(ref moves);
                        lastBlocks[node] = text;
                        foreach (var address in addresses)
                            if (!blocks.Any(b => b.Contains(IPAddress.Parse(address))))
                                lock (violations) violations.Add($"{node} holds {address} outside its blocks {text}");
                    }
                    if (held.Count == 2)
                        foreach (var shared in held["node1"].Intersect(held["node2"]))
                            lock (violations) violations.Add($"{shared} is held on both nodes");
                    Interlocked.Increment(ref looks);
                    await Task.Delay(100);
                }
            });

            // The next round comes 0 to 3 s after the last one's pods began to go: while the emptied extra blocks drain.
            const int Rounds = 7;
            for (int round = 1; round <= Rounds; round++)
            {
                foreach (var node in nodes) run.Apply(PodManifests.OnNode($"churn-{node}-{round}", node, 11));
                LocalClusterRun.Eventually(() => nodes.All(node => client.CoreV1.ListNamespacedPod($"churn-{node}-{round}").Items
                    .Count(p => PodEndpoint.From(p, out _) is not null) == 11), $"round {round}: 11 pods run on each node", 120);
                if (round == Rounds) break;
                foreach (var node in nodes) run.Kubectl("delete", "namespace", $"churn-{node}-{round}", "--wait=false");
                await Task.Delay(TimeSpan.FromMilliseconds(500 * (round - 1)));
            }
            var last = nodes.SelectMany(node => client.CoreV1.ListNamespacedPod($"churn-{node}-{Rounds}").Items).ToList();
            Assert.Equal(22, last.Select(p => p.Status.PodIP).Distinct().Count());
            foreach (var node in nodes) run.Kubectl("delete", "namespace", $"churn-{node}-{Rounds}", "--wait=false");
            LocalClusterRun.Eventually(() => nodes.All(node => run.IpamAddresses(node).Count == 1), "only the seed pods hold addresses", 90);
            await stop.CancelAsync();
            await watcher;
            output.WriteLine($"{looks} looks at both nodes' stores and NodeSubnets, {moves} block changes seen");
            Assert.True(moves >= 4, $"blocks changed only {moves} times: the attack did not run");
            Assert.Empty(violations);
            Assert.Empty(run.RefusedRequests());
        }
        finally
        {
            await stop.CancelAsync();
            if (!up.HasExited) up.Kill();
            up.WaitForExit();
            File.Delete(networkFile);
        }
    }

    private static (string Version, IReadOnlyList<Cidr> Blocks) Blocks(object subnet)
    {
        var json = System.Text.Json.Nodes.JsonNode.Parse(k8s.KubernetesJson.Serialize(subnet))!;
        return (json["metadata"]!["resourceVersion"]!.GetValue<string>(),
            json["spec"]!["cidrs"]!.AsArray().Select(c => Cidr.Parse(c!.GetValue<string>())).ToList());
    }
}
