using k8s;
using k8s.Models;
using Trellis.Local.Kubelet;

namespace Trellis.Local.Cluster;

/// <summary>
/// The `--pods-per-node` pods: real Pod objects in namespace default, labelled app=trellis-local,
/// bound to their node up front (as a DaemonSet's are), each serving the agnhost serve-hostname
/// port 80 over TCP and UDP.
/// </summary>
public static class SeedPods
{
    public const string Label = "app";
    public const string LabelValue = "trellis-local";
    public const string Selector = $"{Label}={LabelValue}";
    public const string Namespace = "default";

    public static string NameOf(string node, int ordinal) => $"{node}-pod{ordinal}";

    public static V1Pod For(string node, int ordinal) => new()
    {
        ApiVersion = "v1",
        Kind = "Pod",
        Metadata = new V1ObjectMeta
        {
            Name = NameOf(node, ordinal),
            NamespaceProperty = Namespace,
            Labels = new Dictionary<string, string> { [Label] = LabelValue },
        },
        Spec = new V1PodSpec
        {
            NodeName = node,
            TerminationGracePeriodSeconds = 5,
            Containers =
            [
                new V1Container
                {
                    Name = "serve-hostname",
                    Image = "registry.k8s.io/e2e-test-images/agnhost:2.52",
                    Args = ["serve-hostname", "--tcp", "--udp", "--http=false", "--port", "80"],
                    Ports =
                    [
                        new V1ContainerPort { Name = "serve-80-tcp", ContainerPort = 80, Protocol = "TCP" },
                        new V1ContainerPort { Name = "serve-80-udp", ContainerPort = 80, Protocol = "UDP" },
                    ],
                },
            ],
        },
    };

    public static async Task CreateAsync(IKubernetes client, string node, int count, CancellationToken ct)
    {
        for (int k = 1; k <= count; k++) await client.CoreV1.CreateNamespacedPodAsync(For(node, k), Namespace, cancellationToken: ct);
    }

    /// <summary>Waits until every pod matching <paramref name="fieldSelector"/> (and the seed label) is Running with an address.</summary>
    public static async Task WaitRunningAsync(IKubernetes client, string? fieldSelector, int expected, TimeSpan timeout, CancellationToken ct, Func<V1Pod, bool>? also = null)
    {
        IList<V1Pod> pods = [];
        await Until.TrueAsync($"{expected} pods are Running with an address", timeout, async () =>
        {
            pods = (await client.CoreV1.ListNamespacedPodAsync(Namespace, labelSelector: Selector, fieldSelector: fieldSelector, cancellationToken: ct)).Items;
            return pods.Count == expected && pods.All(p => IsRunning(p) && (also?.Invoke(p) ?? true));
        }, ct, () => string.Join("; ", pods.Where(p => !IsRunning(p)).Select(p => $"{p.Metadata.Name} {p.Status?.Phase}")));
    }

    public static bool IsRunning(V1Pod pod) =>
        pod.Status?.Phase == "Running" && pod.Status.PodIPs is { Count: > 0 } && pod.Metadata.Annotations?.ContainsKey(PodStatusReport.NetnsAnnotation) == true;
}
