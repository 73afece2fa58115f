using Trellis.Addressing;
using k8s.Models;
using Trellis.Crds;
using Trellis.NodeAgent.Planning;
using Trellis.NodeAgent.Reconciling;
using static Trellis.NodeAgent.Tests.Planning.SubnetBuilder;

namespace Trellis.NodeAgent.Tests.Reconciling;

public sealed class StatusReportTests
{
    private static SubnetFacts Own()
    {
        Assert.True(SubnetFacts.TryParse(Subnet("node1", "192.168.1.11", RoutingModes.Direct, ["10.244.1.0/24", "fd10::1:0:0:0/120"]), out var facts, out var error), error);
        return facts;
    }

    [Fact]
    public void Status_carries_the_condition_peers_generation_and_capacity()
    {
        var now = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        var status = StatusReport.Build(Own(), new ReconcileOutcome(true, ReconcileOutcome.ReasonProgrammed, "2 peers routed"), 2, [5, 0], null, now);

        Assert.Equal(3, status.ObservedGeneration);
        Assert.Equal(2, status.PeersRouted);
        Assert.Equal(5, status.AddressesInUse);
        Assert.Equal(253 + 254, status.AddressCapacity);
        var condition = Assert.Single(status.Conditions);
        Assert.Equal(("Programmed", "True", "Programmed", 3L, now), (condition.Type, condition.Status, condition.Reason, condition.ObservedGeneration!.Value, condition.LastTransitionTime!));
    }

    [Fact]
    public void An_unchanged_outcome_is_not_written_again_and_keeps_its_transition_time()
    {
        var first = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var outcome = new ReconcileOutcome(true, ReconcileOutcome.ReasonProgrammed, "2 peers routed");
        var written = StatusReport.Build(Own(), outcome, 2, [5, 0], null, first);
        var again = StatusReport.Build(Own(), outcome, 2, [5, 0], written, first.AddHours(1));

        Assert.False(StatusReport.Differs(again, written));
        Assert.Equal(first, again.Conditions.Single().LastTransitionTime);
    }

    [Fact]
    public void A_failure_or_a_count_change_is_written()
    {
        var now = DateTime.UtcNow;
        var written = StatusReport.Build(Own(), new ReconcileOutcome(true, ReconcileOutcome.ReasonProgrammed, "ok"), 2, [5, 0], null, now);

        var failed = StatusReport.Build(Own(), new ReconcileOutcome(false, ReconcileOutcome.ReasonKernelError, "add route 10.244.2.0/24: ENETUNREACH"), 2, [5, 0], written, now);
        Assert.True(StatusReport.Differs(failed, written));
        Assert.Equal("False", failed.Conditions.Single().Status);

        Assert.True(StatusReport.Differs(StatusReport.Build(Own(), new ReconcileOutcome(true, ReconcileOutcome.ReasonProgrammed, "ok"), 3, [5, 0], written, now), written));
        Assert.True(StatusReport.Differs(StatusReport.Build(Own(), new ReconcileOutcome(true, ReconcileOutcome.ReasonProgrammed, "ok"), 2, [6, 0], written, now), written));
    }

    [Fact]
    public void The_reclaim_count_is_carried_forward_by_a_pass_and_a_change_of_it_is_written()
    {
        var now = DateTime.UtcNow;
        var ok = new ReconcileOutcome(true, ReconcileOutcome.ReasonProgrammed, "ok");
        var written = StatusReport.Build(Own(), ok, 2, [5, 0], new NodeSubnetStatus { AddressesReclaimed = 7 }, now);
        Assert.Equal(7, written.AddressesReclaimed);
        var again = StatusReport.Build(Own(), ok, 2, [5, 0], written, now);
        Assert.False(StatusReport.Differs(again, written));
        again.AddressesReclaimed++;
        Assert.True(StatusReport.Differs(again, written));
    }

    [Fact]
    public void Other_conditions_are_kept()
    {
        var current = new NodeSubnetStatus { Conditions = [new V1Condition { Type = "Ready", Status = "True" }] };
        var status = StatusReport.Build(Own(), new ReconcileOutcome(true, ReconcileOutcome.ReasonProgrammed, "ok"), 0, [], current, DateTime.UtcNow);
        Assert.Equal(["Ready", "Programmed"], status.Conditions.Select(c => c.Type));
    }

    [Fact]
    public void Usage_is_reported_per_block_and_per_family_and_an_empty_block_keeps_the_time_it_was_first_found_empty()
    {
        var ok = new ReconcileOutcome(true, ReconcileOutcome.ReasonProgrammed, "ok");
        var first = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var status = StatusReport.Build(Own(), ok, 0, [3, 0], null, first);
        Assert.Equal(3, status.AddressesInUse);
        Assert.Equal([("10.244.1.0/24", 3, 253L, (DateTime?)null), ("fd10::1:0:0:0/120", 0, 254L, first)],
            status.Blocks!.Select(b => (b.Cidr, b.AddressesInUse, b.AddressCapacity, b.EmptySince)));
        Assert.Equal([("IPv4", 1, 3, 253L), ("IPv6", 1, 0, 254L)], status.Families!.Select(f => (f.Family, f.Blocks, f.AddressesInUse, f.AddressCapacity)));
        Assert.All(status.Families!, f => Assert.Contains(f.Family, FamilyUsageStatus.All));
        Assert.Equal(IpFamilyName.Of(System.Net.Sockets.AddressFamily.InterNetworkV6), status.Families![1].Family);

        var later = StatusReport.Build(Own(), ok, 0, [3, 0], status, first.AddMinutes(5));
        Assert.Equal(first, later.Blocks![1].EmptySince);
        Assert.False(StatusReport.Differs(later, status));

        var used = StatusReport.Build(Own(), ok, 0, [0, 1], later, first.AddMinutes(6));
        Assert.True(StatusReport.Differs(used, later));
        Assert.Equal([first.AddMinutes(6), null], used.Blocks!.Select(b => b.EmptySince));
        var emptyAgain = StatusReport.Build(Own(), ok, 0, [0, 0], used, first.AddMinutes(7));
        Assert.Equal([first.AddMinutes(6), first.AddMinutes(7)], emptyAgain.Blocks!.Select(b => b.EmptySince));
    }

    [Fact]
    public void Capacity_saturates_for_huge_ipv6_blocks()
    {
        Assert.Equal(long.MaxValue, StatusReport.Capacity([new Block(Cidr.Parse("fd00::/64"), System.Net.IPAddress.Parse("fd00::1"))]));
    }

    /// <summary>Drained is said only of a draining block with nothing in use, counted after the store closed it.</summary>
    [Theory]
    [InlineData(0, true, true)]
    [InlineData(1, true, false)]
    [InlineData(0, false, false)]
    public void A_draining_block_is_drained_only_when_closed_first_and_empty(int inUse, bool closed, bool drained)
    {
        var subnet = Subnet("node1", "192.168.1.11", RoutingModes.Direct, ["10.244.1.0/24", "10.244.9.0/24"]);
        subnet.Spec.Draining = ["10.244.9.0/24"];
        Assert.True(SubnetFacts.TryParse(subnet, out var own, out var error), error);
        var status = StatusReport.Build(own, new ReconcileOutcome(true, ReconcileOutcome.ReasonProgrammed, "ok"), 1, [0, inUse], null,
            DateTime.UtcNow, drainingClosed: closed);
        Assert.False(status.Blocks![0].Drained);
        Assert.Equal(drained, status.Blocks[1].Drained);
    }
}
