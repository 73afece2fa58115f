using System.Text.Json.Nodes;
using Trellis.ApiServer.Storage;

namespace Trellis.ApiServer.Tests.Pods;

/// <summary>kube-apiserver's BeforeDelete, case by case.</summary>
public sealed class GracefulDeletionTests
{
    private static readonly DateTimeOffset Now = new(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private static JsonObject Metadata(string? deletionTimestamp = null, long? period = null)
    {
        var metadata = new JsonObject { ["name"] = "p" };
        if (deletionTimestamp is not null) metadata["deletionTimestamp"] = deletionTimestamp;
        if (period is not null) metadata["deletionGracePeriodSeconds"] = period;
        return metadata;
    }

    private static GracefulDeletionStep Decide(JsonObject metadata, long? requested, long strategy = 30) =>
        GracefulDeletion.Decide(metadata, requested, r => r ?? strategy, Now);

    [Fact]
    public void A_first_delete_marks_with_the_strategy_period() =>
        Assert.Equal(new GracefulDeletionStep.Mark(Now.AddSeconds(30), 30, true), Decide(Metadata(), null));

    [Fact]
    public void A_first_delete_with_period_zero_marks_with_zero() =>
        Assert.Equal(new GracefulDeletionStep.Mark(Now, 0, true), Decide(Metadata(), 0));

    [Fact]
    public void A_negative_period_counts_as_one_second() =>
        Assert.Equal(new GracefulDeletionStep.Mark(Now.AddSeconds(1), 1, true), Decide(Metadata(), -5));

    [Fact]
    public void A_strategy_that_says_zero_wins_over_the_request() =>
        Assert.Equal(new GracefulDeletionStep.Mark(Now, 0, true), GracefulDeletion.Decide(Metadata(), 30, _ => 0, Now));

    [Theory]
    [InlineData(null)]
    [InlineData(30L)]
    [InlineData(60L)]
    public void A_marked_object_keeps_its_deadline_unless_asked_for_a_shorter_one(long? requested) =>
        Assert.IsType<GracefulDeletionStep.AlreadyPending>(Decide(Metadata("2025-01-01T12:00:20Z", 30), requested));

    [Fact]
    public void A_shorter_period_moves_the_deadline_back() =>
        Assert.Equal(new GracefulDeletionStep.Mark(Now.AddSeconds(-10 + 10), 10, false),
            Decide(Metadata("2025-01-01T12:00:20Z", 30), 10));

    [Fact]
    public void A_deadline_moved_into_the_past_is_now_and_stays_graceful() =>
        Assert.Equal(new GracefulDeletionStep.Mark(Now, 1, false), Decide(Metadata("2025-01-01T12:00:05Z", 30), 2));

    [Fact]
    public void The_final_delete_with_zero_ends_the_grace_period() =>
        Assert.Equal(new GracefulDeletionStep.Mark(Now, 0, false), Decide(Metadata("2025-01-01T12:00:20Z", 30), 0));

    [Theory]
    [InlineData(null)]
    [InlineData(0L)]
    public void An_object_marked_without_a_period_or_with_zero_is_deleted_now(long? period) =>
        Assert.IsType<GracefulDeletionStep.DeleteNow>(Decide(Metadata("2025-01-01T12:00:20Z", period), 10));
}
