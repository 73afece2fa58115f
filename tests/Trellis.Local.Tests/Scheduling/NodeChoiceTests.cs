using k8s.Models;
using Trellis.Local.Scheduling;
using Xunit;

namespace Trellis.Local.Tests.Scheduling;

public sealed class NodeChoiceTests
{
    private static V1Node Node(string name, bool ready = true, bool unschedulable = false, Dictionary<string, string>? labels = null, params V1Taint[] taints) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Labels = labels ?? new Dictionary<string, string> { ["kubernetes.io/hostname"] = name } },
        Spec = new V1NodeSpec { Unschedulable = unschedulable, Taints = taints },
        Status = new V1NodeStatus { Conditions = [new V1NodeCondition { Type = "Ready", Status = ready ? "True" : "False" }] },
    };

    private static V1Pod Pod(Dictionary<string, string>? selector = null, params V1Toleration[] tolerations) => new()
    {
        Metadata = new V1ObjectMeta { Name = "p", NamespaceProperty = "x" },
        Spec = new V1PodSpec { NodeSelector = selector, Tolerations = tolerations, Containers = [new V1Container { Name = "c", Image = "i" }] },
    };

    [Fact]
    public void Pods_are_spread_round_robin_over_fitting_nodes()
    {
        var nodes = new[] { Node("node3"), Node("node1"), Node("node2") };
        string? last = null;
        var chosen = new List<string>();
        for (int i = 0; i < 5; i++) chosen.Add(last = NodeChoice.Next(Pod(), nodes, last)!);
        Assert.Equal(["node1", "node2", "node3", "node1", "node2"], chosen);
    }

    [Fact]
    public void Only_ready_schedulable_nodes_with_the_selected_labels_fit()
    {
        var nodes = new[]
        {
            Node("a", ready: false), Node("b", unschedulable: true), Node("c", labels: new() { ["zone"] = "one" }), Node("d", labels: new() { ["zone"] = "two" }),
        };
        Assert.Equal("d", NodeChoice.Next(Pod(new() { ["zone"] = "two" }), nodes, null));
        Assert.Equal("c", NodeChoice.Next(Pod(), nodes, "d"));
        Assert.Null(NodeChoice.Next(Pod(new() { ["zone"] = "three" }), nodes, null));
        Assert.Equal("0/4 nodes are available: 1 node(s) were not ready, 1 node(s) were unschedulable, 2 node(s) didn't match Pod's node affinity/selector.",
            NodeChoice.Unavailable(Pod(new() { ["zone"] = "three" }), nodes));
    }

    [Fact]
    public void Taints_keep_pods_away_unless_tolerated()
    {
        var tainted = Node("t", taints: new V1Taint { Key = "dedicated", Value = "db", Effect = "NoSchedule" });
        var preferring = Node("p", taints: new V1Taint { Key = "soft", Effect = "PreferNoSchedule" });
        Assert.Equal(NodeRejection.UntoleratedTaint, NodeChoice.Rejection(Pod(), tainted));
        Assert.Null(NodeChoice.Rejection(Pod(), preferring));
        Assert.Null(NodeChoice.Rejection(Pod(null, new V1Toleration { Key = "dedicated", OperatorProperty = "Equal", Value = "db" }), tainted));
        Assert.Null(NodeChoice.Rejection(Pod(null, new V1Toleration { Key = "dedicated", OperatorProperty = "Exists", Effect = "NoSchedule" }), tainted));
        Assert.Null(NodeChoice.Rejection(Pod(null, new V1Toleration { OperatorProperty = "Exists" }), tainted));
        Assert.NotNull(NodeChoice.Rejection(Pod(null, new V1Toleration { Key = "dedicated", OperatorProperty = "Equal", Value = "web" }), tainted));
        Assert.NotNull(NodeChoice.Rejection(Pod(null, new V1Toleration { Key = "dedicated", OperatorProperty = "Exists", Effect = "NoExecute" }), tainted));
    }
}
