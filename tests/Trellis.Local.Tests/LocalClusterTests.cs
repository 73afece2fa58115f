using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Trellis.Testing;
using Xunit;

namespace Trellis.Local.Tests;

/// <summary>The published trellis-local end to end: real namespaces, operator, agents and plugin.</summary>
public sealed class LocalClusterTests
{
    [Theory]
    [InlineData("Direct", "l2")]
    [InlineData("VXLAN", "l2")]
    [InlineData("VXLAN", "routed")]
    [InlineData("VXLAN", "mixed")]
    [InlineData("Auto", "l2")]
    [InlineData("Auto", "routed")]
    [InlineData("Auto", "mixed")]
    public void Run_gives_a_full_matrix_and_leaves_nothing(string routing, string topology)
    {
        using var run = new LocalClusterRun();
        var result = run.Run("run", "--nodes", "3", "--pods-per-node", "2", "--routing", routing, "--topology", topology, "--json");
        Assert.True(result.Succeeded, $"exit {result.ExitCode}\n{result.StandardError}\n{result.StandardOutput}");

        var json = LocalClusterRun.ParseJson(result);
        var matrix = json["matrix"]!;
        Assert.Equal(30, matrix["pairs"]!.GetValue<int>());
        Assert.Equal(30, matrix["reachable"]!.GetValue<int>());
        Assert.Equal(0, matrix["unreachable"]!.GetValue<int>());

        var nodes = json["nodes"]!.AsArray();
        Assert.Equal(3, nodes.Count);
        var blocks = nodes.SelectMany(n => n!["blocks"]!.AsArray().Select(b => b!.GetValue<string>())).ToList();
        Assert.Equal(3, blocks.Distinct().Count());
        Assert.All(blocks, b => Assert.StartsWith("10.244.", b));
        var pods = json["pods"]!.AsArray();
        Assert.Equal(6, pods.Count);
        Assert.Equal(6, pods.Select(p => p!["addresses"]![0]!.GetValue<string>()).Distinct().Count());

        Assert.Empty(run.LeftoverNamespaces());
        Assert.Empty(run.LeftoverProcesses());
        Assert.False(Directory.Exists(run.StateDirectory));
    }

    /// <summary>
    /// BGP mode: the underlay namespace runs a real router that learns every node's block and installs
    /// it with the node as next hop; no node holds a route to another node's block, yet every pod
    /// reaches every pod (dual-stack: over IPv6 too, the IPv6 blocks announced with each node's IPv6
    /// address as next hop); the router reaches every pod without NAT; `status` prints the router's
    /// own BGP table; `down` leaves nothing of it.
    /// </summary>
    [Theory]
    [InlineData("frr", "l2", false)]
    [InlineData("frr", "routed", true)]
    [InlineData("bird", "l2", true)]
    [InlineData("bird", "routed", false)]
    public void Bgp_with_a_real_router_gives_a_full_matrix_and_leaves_nothing(string router, string topology, bool dualStack)
    {
        using var run = new LocalClusterRun();
        string[] network = dualStack ? ["--network", Path.Combine(RepositoryRoot.Find(), "config", "samples", "podnetwork-dualstack.yaml")] : [];
        using (var up = run.StartUp(["--nodes", "3", "--pods-per-node", "1", "--routing", "BGP", "--router", router, "--topology", topology, .. network]))
        {
            // The up process made its first socket inside the underlay (the API server's listener there):
            // every runtime thread must still live in its own namespace, or its HTTP calls go astray.
            Assert.Empty(LocalClusterRun.ThreadsAwayFromHome(up));
            var json = run.Run("status", "--json");
            Assert.True(json.Succeeded, $"exit {json.ExitCode}\n{json.StandardError}\n{json.StandardOutput}");
            var report = LocalClusterRun.ParseJson(json);
            Assert.Equal(6, report["matrix"]!["pairs"]!.GetValue<int>());
            Assert.Equal(6, report["matrix"]!["reachable"]!.GetValue<int>());
            var nodes = ReportedNode.From(report);
            Assert.Equal(3, nodes.Count);
            var families = dualStack ? new[] { System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.AddressFamily.InterNetworkV6 } : [System.Net.Sockets.AddressFamily.InterNetwork];
            Assert.All(nodes, n => Assert.Equal(families, n.Blocks.Select(b => b.Family)));
            Assert.All(report["pods"]!.AsArray(), p => Assert.Equal(families.Length, p!["addresses"]!.AsArray().Count));

            Assert.Empty(nodes.SelectMany(n => ClusterRoutes.ToPeerBlocks(n, nodes)));
            foreach (var node in nodes)
                foreach (var block in node.Blocks)
                    Assert.True(ClusterRoutes.Holds($"{run.Prefix}-underlay", block, node.AddressOf(block.Family)),
                        $"the router's kernel routes {block} via {node.Name}");

            AssertReachableFromTheRouterWithoutNat(run);

            // `trellis-local metrics` reads a node's agent endpoint inside the node: probes pass, the session to the router is up.
            var metrics = run.Run("metrics", "node1");
            Assert.True(metrics.Succeeded, metrics.StandardOutput + metrics.StandardError);
            Assert.Contains("# node1 /healthz: 200 ok\n", metrics.StandardOutput);
            Assert.Contains("# node1 /readyz: 200 ok\n", metrics.StandardOutput);
            Assert.Matches(@"trellis_agent_bgp_session_state\{peer=""[^""]+"",state=""Established"",node=""node1""\} 1\n", metrics.StandardOutput);
            Assert.Matches(@"trellis_agent_bgp_sessions_established\{node=""node1""\} [1-9]", metrics.StandardOutput);
            Assert.Contains("trellis_agent_programmed{node=\"node1\"} 1\n", metrics.StandardOutput);
            var missing = run.Run("metrics", "node9");
            Assert.False(missing.Succeeded);
            Assert.Contains("the local cluster has no node node9", missing.StandardError);

            var status = run.Run("status");
            Assert.True(status.Succeeded, status.StandardOutput + status.StandardError);
            var table = RouterTable(status.StandardOutput);
            foreach (var node in nodes)
                foreach (var block in node.Blocks)
                {
                    var (prefix, nextHop) = (Regex.Escape(block.ToString()), Regex.Escape(node.AddressOf(block.Family).ToString()));
                    // vtysh: the next hop follows the prefix (on the next line when the prefix is wide); birdc: in the route's attributes.
                    Assert.Matches(router == "frr" ? $@"{prefix}\s+{nextHop}\s" : $@"{prefix}\s+unicast \[node\d+ [^\n]*\n(.*\n)*?\s+BGP.next_hop: {nextHop}\b", table);
                }
        }
        var down = run.Run("down");
        Assert.True(down.Succeeded, down.StandardError);
        Assert.Empty(run.LeftoverNamespaces());
        Assert.Empty(run.LeftoverProcesses());
    }

    /// <summary>
    /// routing.bgp with another mode only announces: the nodes still route each other's blocks
    /// themselves, and the router outside the cluster reaches every pod at its own address, the
    /// pod seeing the router's address as the source (no NAT either way).
    /// </summary>
    [Theory]
    [InlineData("Direct", "frr", "l2")]
    [InlineData("VXLAN", "bird", "routed")]
    public void Bgp_announce_only_makes_pods_reachable_from_the_router_while_nodes_route_each_other(string routing, string router, string topology)
    {
        using var run = new LocalClusterRun();
        using (run.StartUp("--nodes", "2", "--pods-per-node", "1", "--routing", routing, "--router", router, "--topology", topology))
        {
            var json = run.Run("status", "--json");
            Assert.True(json.Succeeded, $"exit {json.ExitCode}\n{json.StandardError}\n{json.StandardOutput}");
            var report = LocalClusterRun.ParseJson(json);
            Assert.Equal(2, report["matrix"]!["reachable"]!.GetValue<int>());
            var nodes = ReportedNode.From(report);
            foreach (var node in nodes)
            {
                Assert.NotEmpty(ClusterRoutes.ToPeerBlocks(node, nodes));
                foreach (var block in node.Blocks)
                    Assert.True(ClusterRoutes.Holds($"{run.Prefix}-underlay", block, node.AddressOf(block.Family)),
                        $"the router's kernel routes {block} via {node.Name}");
            }
            AssertReachableFromTheRouterWithoutNat(run);
        }
        var down = run.Run("down");
        Assert.True(down.Succeeded, down.StandardError);
        Assert.Empty(run.LeftoverNamespaces());
        Assert.Empty(run.LeftoverProcesses());
    }

    /// <summary>Every pod accepts a connection from the underlay router to each of its addresses, and sees one of the router's own addresses as its source.</summary>
    private static void AssertReachableFromTheRouterWithoutNat(LocalClusterRun run)
    {
        var underlay = $"{run.Prefix}-underlay";
        using var client = new k8s.Kubernetes(k8s.KubernetesClientConfiguration.BuildConfigFromConfigFile(run.Kubeconfig));
        var pods = Trellis.Local.Connectivity.ClusterPods.ListAsync(client, CancellationToken.None).GetAwaiter().GetResult();
        Assert.NotEmpty(pods);
        var routerAddresses = ClusterRoutes.AddressesIn(underlay);
        foreach (var pod in pods)
            foreach (var address in pod.Addresses)
            {
                var source = OutsideReach.SourceSeenBy(pod, address, underlay);
                Assert.True(routerAddresses.Contains(source), $"{pod.Key} at {address} saw {source}, not an address of the router ({string.Join(", ", routerAddresses)})");
            }
    }

    /// <summary>The part of `status` that the underlay router's own tool (vtysh, birdc) printed.</summary>
    private static string RouterTable(string status)
    {
        int start = status.IndexOf("(the underlay router)", StringComparison.Ordinal);
        Assert.True(start >= 0, $"status prints no router table:\n{status}");
        int end = status.IndexOf("$ kubectl get pods", start, StringComparison.Ordinal);
        return status[start..end];
    }

    [Fact]
    public void Down_after_a_killed_up_leaves_no_namespace_process_or_file()
    {
        using var run = new LocalClusterRun();
        var up = run.StartUp("--nodes", "2", "--pods-per-node", "1");
        Assert.NotEmpty(run.LeftoverNamespaces());
        Assert.NotEmpty(run.LeftoverProcesses());
        up.Kill();
        up.WaitForExit();

        var down = run.Run("down");
        Assert.True(down.Succeeded, down.StandardError);
        Assert.Empty(run.LeftoverNamespaces());
        Assert.Empty(run.LeftoverProcesses());
        Assert.False(Directory.Exists(run.StateDirectory));
    }

    [Fact]
    public void Kubectl_and_node_changes_are_followed_live()
    {
        if (Shell.Run("sh", "-c", "command -v kubectl").ExitCode != 0)
            throw new InvalidOperationException("kubectl is not on PATH; this test needs the stock kubectl client");
        using var run = new LocalClusterRun();
        using var up = run.StartUp("--nodes", "2", "--pods-per-node", "1", "--routing", "VXLAN");
        try
        {
            string Kubectl(params string[] args) => run.Kubectl(args);

            var listing = Kubectl("get", "nodes,podnetworks,nodesubnets");
            Assert.Contains("node1", listing);
            Assert.Contains("10.244.0.0/16", listing);
            Assert.Contains("default.node2", listing);

            // A second network applied with kubectl is served to the nodes it selects.
            var second = Path.Combine(run.StateDirectory, "second.yaml");
            File.WriteAllText(second, """
                apiVersion: trellis.io/v1alpha1
                kind: PodNetwork
                metadata:
                  name: second
                spec:
                  cidrs: ["10.250.0.0/16"]
                  blockSize: {ipv4: 26}
                  nodeSelector:
                    matchLabels:
                      kubernetes.io/hostname: node1
                """);
            Kubectl("apply", "-f", second);
            LocalClusterRun.Eventually(() => Kubectl("get", "nodesubnets").Contains("second.node1"), "second.node1 appears");
            Assert.DoesNotContain("second.node2", Kubectl("get", "nodesubnets"));
            Kubectl("delete", "podnetwork", "second");
            LocalClusterRun.Eventually(() => !Kubectl("get", "nodesubnets").Contains("second.node1"), "second.node1 goes with its network");

            // A node joins: it gets a block and its pods reach the others; then it leaves.
            var add = run.Run("node", "add", "node3");
            Assert.True(add.Succeeded, add.StandardError + add.StandardOutput);
            LocalClusterRun.Eventually(() => Kubectl("get", "nodesubnets").Contains("default.node3"), "default.node3 appears");
            var status = run.Run("status");
            Assert.True(status.Succeeded, status.StandardOutput + status.StandardError);
            Assert.Contains("6/6 pod pairs reachable", status.StandardOutput);

            var remove = run.Run("node", "remove", "node3");
            Assert.True(remove.Succeeded, remove.StandardError + remove.StandardOutput);
            Assert.DoesNotContain("node3", Kubectl("get", "nodes"));
            Assert.DoesNotContain("default.node3", Kubectl("get", "nodesubnets"));
            // The operator and the agents, under config/rbac, were refused nothing (`run` fails by itself if they were).
            Assert.Empty(run.RefusedRequests());
        }
        finally
        {
            up.Kill();
            up.WaitForExit();
        }
    }
}
