using System.Text.Json.Nodes;
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

    /// <summary>BGP mode: the underlay namespace runs a real router that learns every node's block; nothing of it stays behind.</summary>
    [Theory]
    [InlineData("frr", "l2")]
    [InlineData("bird", "routed")]
    public void Bgp_with_a_real_router_gives_a_full_matrix_and_leaves_nothing(string router, string topology)
    {
        using var run = new LocalClusterRun();
        var result = run.Run("run", "--nodes", "3", "--pods-per-node", "1", "--routing", "BGP", "--router", router, "--topology", topology, "--json");
        Assert.True(result.Succeeded, $"exit {result.ExitCode}\n{result.StandardError}\n{result.StandardOutput}");

        var matrix = LocalClusterRun.ParseJson(result)["matrix"]!;
        Assert.Equal(6, matrix["pairs"]!.GetValue<int>());
        Assert.Equal(6, matrix["reachable"]!.GetValue<int>());
        Assert.Contains(router == "frr" ? "frr in the underlay namespace" : "bird in the underlay namespace", result.StandardError + result.StandardOutput);
        Assert.Empty(run.LeftoverNamespaces());
        Assert.Empty(run.LeftoverProcesses());
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
