using Trellis.Local.Kubelet;
using Xunit;
using Step = Trellis.Local.Kubelet.KubeletStep;

namespace Trellis.Local.Tests.Kubelet;

/// <summary>The kubelet's sync of one pod name, case by case.</summary>
public sealed class KubeletPlanTests
{
    private static readonly DateTimeOffset T0 = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static SandboxFacts Sandbox(string id, string uid = "u1", bool ready = true, bool exists = true, bool serving = true, int minute = 0) =>
        new(id, uid, ready, exists, serving, T0.AddMinutes(minute));

    private static PodFacts Pod(string uid = "u1", bool deleting = false, bool finished = false) => new(uid, deleting, finished);

    [Fact]
    public void A_new_pod_gets_a_sandbox() =>
        Assert.Equal([new Step.StartSandbox()], KubeletPlan.For(Pod(), []));

    [Fact]
    public void A_running_sandbox_is_only_reported() =>
        Assert.Equal([new Step.Report("s1")], KubeletPlan.For(Pod(), [Sandbox("s1")]));

    [Fact]
    public void After_a_kubelet_restart_the_sandbox_is_served_again() =>
        Assert.Equal([new Step.Serve("s1"), new Step.Report("s1")], KubeletPlan.For(Pod(), [Sandbox("s1", serving: false)]));

    [Fact]
    public void A_sandbox_left_half_made_by_a_crash_is_torn_down_and_replaced() =>
        Assert.Equal([new Step.StopSandbox("s1"), new Step.StartSandbox()], KubeletPlan.For(Pod(), [Sandbox("s1", ready: false)]));

    [Fact]
    public void A_sandbox_whose_namespace_vanished_is_torn_down_and_replaced() =>
        Assert.Equal([new Step.StopSandbox("s1"), new Step.StartSandbox()], KubeletPlan.For(Pod(), [Sandbox("s1", exists: false)]));

    [Fact]
    public void A_deleted_pod_is_stopped_then_removed() =>
        Assert.Equal([new Step.StopSandbox("s1"), new Step.RemovePod()], KubeletPlan.For(Pod(deleting: true), [Sandbox("s1")]));

    [Fact]
    public void A_deleted_pod_that_never_ran_is_removed() =>
        Assert.Equal([new Step.RemovePod()], KubeletPlan.For(Pod(deleting: true), []));

    [Fact]
    public void A_pod_gone_from_the_API_leaves_no_sandbox() =>
        Assert.Equal([new Step.StopSandbox("s1"), new Step.StopSandbox("s2")], KubeletPlan.For(null, [Sandbox("s2", minute: 1), Sandbox("s1")]));

    [Fact]
    public void A_pod_recreated_under_the_same_name_stops_the_old_ones_sandbox_first() =>
        Assert.Equal([new Step.StopSandbox("old"), new Step.StartSandbox()], KubeletPlan.For(Pod("u2"), [Sandbox("old", uid: "u1")]));

    [Fact]
    public void Of_two_ready_sandboxes_the_newest_is_kept() =>
        Assert.Equal([new Step.StopSandbox("s1"), new Step.Report("s2")], KubeletPlan.For(Pod(), [Sandbox("s1"), Sandbox("s2", minute: 1)]));

    [Fact]
    public void A_finished_pod_keeps_nothing_running_and_is_not_removed() =>
        Assert.Equal([new Step.StopSandbox("s1")], KubeletPlan.For(Pod(finished: true), [Sandbox("s1")]));

    [Fact]
    public void Nothing_to_do_for_nothing() => Assert.Empty(KubeletPlan.For(null, []));
}
