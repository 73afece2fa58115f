using Trellis.Crds;
using Trellis.Operator.Planning;
using Trellis.Operator.Validation;
using Xunit;

namespace Trellis.Operator.Tests.Planning;

public sealed class PodNetworkStatusPlannerTests
{
    private static readonly DateTime Earlier = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private static readonly DateTime Later = Earlier.AddHours(1);

    private static PodNetwork Network(long generation = 3)
    {
        var network = TestObjects.Network("default", "10.244.0.0/16");
        network.Metadata.Generation = generation;
        return network;
    }

    private static NetworkObservation Healthy(int nodes = 3) => new(ValidationVerdict.Accepted, [], nodes, 256, nodes);

    [Fact]
    public void A_healthy_network_is_ready_and_valid_with_counts_and_generation()
    {
        var status = PodNetworkStatusPlanner.Plan(Network(), Healthy(), Earlier);
        Assert.Equal(3, status.ObservedGeneration);
        Assert.Equal((3L, 256L, 3), (status.BlocksAllocated, status.BlocksTotal, status.Nodes));
        var ready = PodNetworkStatusPlanner.Find(status, Conditions.Ready)!;
        Assert.Equal(("True", Conditions.ReasonAllocated, 3L), (ready.Status, ready.Reason, ready.ObservedGeneration));
        Assert.Equal("True", PodNetworkStatusPlanner.Find(status, Conditions.Valid)!.Status);
    }

    [Fact]
    public void Exhaustion_and_invalidity_make_it_not_ready_with_their_reason()
    {
        var exhausted = PodNetworkStatusPlanner.Plan(Network(), Healthy() with { Exhausted = ["no IPv4 block left"] }, Earlier);
        var ready = PodNetworkStatusPlanner.Find(exhausted, Conditions.Ready)!;
        Assert.Equal(("False", Conditions.ReasonPoolExhausted, "no IPv4 block left"), (ready.Status, ready.Reason, ready.Message));

        var verdict = new ValidationVerdict(false, ValidationReasons.Overlap, "overlaps older");
        var invalid = PodNetworkStatusPlanner.Plan(Network(), Healthy() with { Verdict = verdict, Exhausted = ["ignored"] }, Earlier);
        Assert.Equal(PodNetworkStatusPlanner.ReasonInvalid, PodNetworkStatusPlanner.Find(invalid, Conditions.Ready)!.Reason);
        var valid = PodNetworkStatusPlanner.Find(invalid, Conditions.Valid)!;
        Assert.Equal(("False", ValidationReasons.Overlap, "overlaps older"), (valid.Status, valid.Reason, valid.Message));
    }

    [Fact]
    public void Transition_time_moves_only_when_a_condition_status_changes()
    {
        var network = Network();
        network.Status = PodNetworkStatusPlanner.Plan(network, Healthy(), Earlier);

        var sameStatus = PodNetworkStatusPlanner.Plan(network, Healthy(nodes: 4), Later);
        Assert.Equal(Earlier, PodNetworkStatusPlanner.Find(sameStatus, Conditions.Ready)!.LastTransitionTime);

        var flipped = PodNetworkStatusPlanner.Plan(network, Healthy() with { Exhausted = ["full"] }, Later);
        Assert.Equal(Later, PodNetworkStatusPlanner.Find(flipped, Conditions.Ready)!.LastTransitionTime);
        Assert.Equal(Earlier, PodNetworkStatusPlanner.Find(flipped, Conditions.Valid)!.LastTransitionTime);
    }

    [Fact]
    public void Differs_ignores_time_but_sees_every_field_a_reader_would_notice()
    {
        var network = Network();
        var current = PodNetworkStatusPlanner.Plan(network, Healthy(), Earlier);
        Assert.True(PodNetworkStatusPlanner.Differs(null, current));
        Assert.False(PodNetworkStatusPlanner.Differs(current, PodNetworkStatusPlanner.Plan(network, Healthy(), Later)));
        Assert.True(PodNetworkStatusPlanner.Differs(current, PodNetworkStatusPlanner.Plan(network, Healthy(nodes: 4), Later)));
        Assert.True(PodNetworkStatusPlanner.Differs(current, PodNetworkStatusPlanner.Plan(network, Healthy() with { BlocksTotal = 512 }, Later)));
        Assert.True(PodNetworkStatusPlanner.Differs(current, PodNetworkStatusPlanner.Plan(Network(generation: 4), Healthy(), Later)));
        Assert.True(PodNetworkStatusPlanner.Differs(current, PodNetworkStatusPlanner.Plan(network, Healthy() with { Exhausted = ["x"] }, Later)));
    }
}
