using k8s.Models;

namespace Trellis.Local.Scheduling;

/// <summary>Why a node cannot take a pod, in the words kube-scheduler's FailedScheduling events use.</summary>
public enum NodeRejection { NotReady, Unschedulable, SelectorMismatch, UntoleratedTaint }

/// <summary>
/// Which node a pod goes to, as a pure function: a node must be Ready, schedulable, carry every
/// nodeSelector label and have no NoSchedule/NoExecute taint the pod does not tolerate; among those,
/// nodes are taken in turn (round-robin by name after the last one chosen).
/// </summary>
public static class NodeChoice
{
    public static NodeRejection? Rejection(V1Pod pod, V1Node node)
    {
        if (node.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready")?.Status != "True") return NodeRejection.NotReady;
        if (node.Spec?.Unschedulable == true) return NodeRejection.Unschedulable;
        var labels = node.Metadata.Labels ?? new Dictionary<string, string>();
        if (pod.Spec.NodeSelector is { } selector && selector.Any(s => !labels.TryGetValue(s.Key, out var value) || value != s.Value)) return NodeRejection.SelectorMismatch;
        foreach (var taint in node.Spec?.Taints ?? [])
            if (taint.Effect is "NoSchedule" or "NoExecute" && !(pod.Spec.Tolerations ?? []).Any(t => Tolerates(t, taint)))
                return NodeRejection.UntoleratedTaint;
        return null;
    }

    public static bool Tolerates(V1Toleration toleration, V1Taint taint)
    {
        if (!string.IsNullOrEmpty(toleration.Effect) && toleration.Effect != taint.Effect) return false;
        if (string.IsNullOrEmpty(toleration.Key)) return toleration.OperatorProperty == "Exists";
        if (toleration.Key != taint.Key) return false;
        return toleration.OperatorProperty == "Exists" || (toleration.Value ?? "") == (taint.Value ?? "");
    }

    /// <summary>The first fitting node after <paramref name="last"/> in name order, wrapping around; null when none fits.</summary>
    public static string? Next(V1Pod pod, IEnumerable<V1Node> nodes, string? last)
    {
        var fitting = nodes.Where(n => Rejection(pod, n) is null).Select(n => n.Metadata.Name).Order(StringComparer.Ordinal).ToList();
        if (fitting.Count == 0) return null;
        return last is null ? fitting[0] : fitting.FirstOrDefault(n => string.CompareOrdinal(n, last) > 0) ?? fitting[0];
    }

    /// <summary>"0/3 nodes are available: 1 node(s) were not ready, 2 node(s) didn't match Pod's node affinity/selector."</summary>
    public static string Unavailable(V1Pod pod, IReadOnlyCollection<V1Node> nodes)
    {
        var reasons = nodes.Select(n => Rejection(pod, n)).OfType<NodeRejection>().GroupBy(r => r).OrderBy(g => g.Key)
            .Select(g => $"{g.Count()} {g.Key switch
            {
                NodeRejection.NotReady => "node(s) were not ready",
                NodeRejection.Unschedulable => "node(s) were unschedulable",
                NodeRejection.SelectorMismatch => "node(s) didn't match Pod's node affinity/selector",
                _ => "node(s) had untolerated taint",
            }}");
        return $"0/{nodes.Count} nodes are available: {string.Join(", ", reasons)}.";
    }
}
