using Trellis.Local.Topology;
using Xunit;

namespace Trellis.Local.Tests;

public sealed class TopologyPlanTests
{
    [Fact]
    public void L2_puts_every_node_on_one_segment_at_dot_eleven_onwards()
    {
        var plan = TopologyPlan.Create("trellis", TopologyKind.L2, 3);
        Assert.Single(plan.Segments);
        Assert.Equal("192.168.1.0/24", plan.Segments[0].Subnet.ToString());
        Assert.Equal(["192.168.1.11/24", "192.168.1.12/24", "192.168.1.13/24"], plan.Nodes.Select(n => n.Address.ToString()));
        Assert.Equal(["fd00:192:168:1::11/64", "fd00:192:168:1::12/64", "fd00:192:168:1::13/64"], plan.Nodes.Select(n => n.Address6.ToString()));
        Assert.Equal(("fd00:192:168:1::/64", "fd00:192:168:1::1"), (plan.Segments[0].Subnet6.ToString(), plan.Segments[0].Gateway6.ToString()));
        Assert.Equal(["trellis-node1", "trellis-node2", "trellis-node3"], plan.Nodes.Select(n => n.Namespace));
        Assert.Equal("trellis-underlay", plan.UnderlayNamespace);
        Assert.Equal("192.168.1.1", plan.ApiAddress.ToString());
    }

    [Fact]
    public void Routed_gives_every_node_its_own_segment()
    {
        var plan = TopologyPlan.Create("t", TopologyKind.Routed, 3);
        Assert.Equal(3, plan.Segments.Count);
        Assert.Equal(["192.168.1.11/24", "192.168.2.12/24", "192.168.3.13/24"], plan.Nodes.Select(n => n.Address.ToString()));
        Assert.Equal(plan.Nodes.Select(n => n.Segment.Gateway.ToString()), ["192.168.1.1", "192.168.2.1", "192.168.3.1"]);
        Assert.Equal(["fd00:192:168:1::11/64", "fd00:192:168:2::12/64", "fd00:192:168:3::13/64"], plan.Nodes.Select(n => n.Address6.ToString()));
        Assert.Equal(plan.Nodes.Select(n => n.Segment.Gateway6.ToString()), ["fd00:192:168:1::1", "fd00:192:168:2::1", "fd00:192:168:3::1"]);
        Assert.Equal(3, plan.Nodes.Select(n => n.Segment.Index).Distinct().Count());
    }

    [Theory]
    [InlineData(2, 1, 1)]
    [InlineData(3, 2, 1)]
    [InlineData(4, 2, 2)]
    [InlineData(5, 3, 2)]
    public void Mixed_splits_nodes_into_two_groups(int nodes, int first, int second)
    {
        var plan = TopologyPlan.Create("t", TopologyKind.Mixed, nodes);
        Assert.Equal(2, plan.Segments.Count);
        Assert.Equal(first, plan.Nodes.Count(n => n.Segment.Index == 0));
        Assert.Equal(second, plan.Nodes.Count(n => n.Segment.Index == 1));
    }

    [Fact]
    public void A_joining_node_keeps_everyone_elses_place()
    {
        var before = TopologyPlan.Create("t", TopologyKind.L2, 3);
        var after = TopologyPlan.Create("t", TopologyKind.L2, ["node1", "node2", "node3", "extra"]);
        Assert.Equal(before.Nodes.Select(n => n.Address), after.Nodes.Take(3).Select(n => n.Address));
        Assert.Equal("192.168.1.14/24", after.Nodes[3].Address.ToString());
        Assert.Equal("u-extra", after.Nodes[3].UnderlayLinkName);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(TopologyPlan.MaxNodes + 1)]
    public void Node_counts_out_of_range_are_refused(int count) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => TopologyPlan.Create("t", TopologyKind.L2, count));

    [Fact]
    public void Mixed_needs_two_nodes() =>
        Assert.Throws<ArgumentException>(() => TopologyPlan.Create("t", TopologyKind.Mixed, 1));
}
