namespace Trellis.Local.Kubelet;

/// <summary>The facts about one Pod bound to this node that decide what its kubelet does.</summary>
/// <param name="Deleting">deletionTimestamp is set: stop everything, then delete the Pod for good.</param>
/// <param name="Finished">Phase Succeeded or Failed: nothing runs any more.</param>
public sealed record PodFacts(string Uid, bool Deleting, bool Finished);

/// <summary>The facts about one sandbox the runtime has for a pod of this name (any UID).</summary>
/// <param name="NamespaceExists">False when its network namespace vanished (removed by hand, or a crash mid-creation).</param>
/// <param name="Serving">Its port responders are open in this process.</param>
public sealed record SandboxFacts(string Id, string PodUid, bool Ready, bool NamespaceExists, bool Serving, DateTimeOffset CreatedAt);

/// <summary>One thing the kubelet does, in plan order.</summary>
public abstract record KubeletStep
{
    private KubeletStep() { }

    /// <summary>StopPodSandbox: responders closed, CNI DEL, namespace removed, record forgotten.</summary>
    public sealed record StopSandbox(string Id) : KubeletStep;

    /// <summary>RunPodSandbox with a fresh ID, then serve its ports and report it.</summary>
    public sealed record StartSandbox : KubeletStep;

    /// <summary>Open the responders of a running sandbox (after a kubelet restart).</summary>
    public sealed record Serve(string Id) : KubeletStep;

    /// <summary>Write the sandbox's addresses and readiness to the Pod, where they differ.</summary>
    public sealed record Report(string Id) : KubeletStep;

    /// <summary>Every sandbox is gone: delete the Pod with grace period 0, its UID as precondition.</summary>
    public sealed record RemovePod : KubeletStep;
}

/// <summary>
/// The kubelet's sync of one pod name, as a pure function: keep the newest ready sandbox of the
/// current Pod whose namespace still exists, stop every other (old UIDs after a delete and
/// re-create, failed or half-made ones, one whose namespace vanished), then start, serve or report.
/// </summary>
public static class KubeletPlan
{
    public static IReadOnlyList<KubeletStep> For(PodFacts? pod, IReadOnlyList<SandboxFacts> sandboxes)
    {
        var runs = pod is { Deleting: false, Finished: false };
        var keep = runs
            ? sandboxes.Where(s => s.PodUid == pod!.Uid && s.Ready && s.NamespaceExists).MaxBy(s => s.CreatedAt)
            : null;
        var steps = new List<KubeletStep>();
        foreach (var sandbox in sandboxes.Where(s => s != keep).OrderBy(s => s.CreatedAt))
            steps.Add(new KubeletStep.StopSandbox(sandbox.Id));
        if (pod is null || pod.Finished) return steps;
        if (pod.Deleting)
        {
            steps.Add(new KubeletStep.RemovePod());
            return steps;
        }
        if (keep is null)
        {
            steps.Add(new KubeletStep.StartSandbox());
            return steps;
        }
        if (!keep.Serving) steps.Add(new KubeletStep.Serve(keep.Id));
        steps.Add(new KubeletStep.Report(keep.Id));
        return steps;
    }
}
