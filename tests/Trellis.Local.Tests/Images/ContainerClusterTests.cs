using Trellis.Local.Containers;
using Trellis.Testing;
using Xunit;

namespace Trellis.Local.Tests.Images;

/// <summary>`trellis-local up --images`: every agent and the operator run as containers of the images scripts/images.sh built.</summary>
[Collection(ImageCollection.Name)]
public sealed class ContainerClusterTests(ImageBuild build)
{
    [PodmanFact]
    public void Agents_and_operator_in_containers_give_a_full_matrix_and_down_leaves_nothing()
    {
        build.Output();
        using var run = new LocalClusterRun();
        using (var up = run.StartUp("--images", "--nodes", "3", "--pods-per-node", "2"))
        {
            try
            {
                var status = run.Run("status", "--json");
                Assert.True(status.Succeeded, $"exit {status.ExitCode}\n{status.StandardError}\n{status.StandardOutput}");
                var matrix = LocalClusterRun.ParseJson(status)["matrix"]!;
                Assert.Equal(30, matrix["pairs"]!.GetValue<int>());
                Assert.Equal(30, matrix["reachable"]!.GetValue<int>());

                // What runs is the images: one container per agent and the operator, labelled for this run.
                string[] expected = [ContainerWorkloads.OperatorName(run.Prefix), .. new[] { "node1", "node2", "node3" }.Select(n => ContainerWorkloads.AgentName(run.Prefix, n))];
                Assert.Equal(expected.Order(), Containers(run.Prefix).Order());
                // The operator container holds the leader Lease: nothing in-process allocated the blocks.
                Assert.Equal(ContainerWorkloads.OperatorName(run.Prefix),
                    run.Kubectl("get", "lease", "-n", "trellis-system", "-o", "jsonpath={.items[*].spec.holderIdentity}").Trim());
                // The chained plugins came from the agent image (its init container), beside trellis-cni.
                Assert.True(File.Exists(Path.Combine(run.StateDirectory, "nodes", "node1", "cni", "bin", "portmap")));
                Assert.Empty(run.RefusedRequests());
            }
            finally
            {
                var down = run.Run("down");
                Assert.True(down.Succeeded, down.StandardError);
                up.WaitForExit(30_000);
            }
        }
        Assert.Empty(Containers(run.Prefix));
        Assert.Empty(run.LeftoverNamespaces());
        Assert.Empty(run.LeftoverProcesses());
    }

    private static IReadOnlyList<string> Containers(string prefix) =>
        Podman.RunChecked(["ps", "--all", "--filter", $"label={Podman.ClusterLabel}={prefix}", "--format", "{{.Names}}"])
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
