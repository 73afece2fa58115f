using System.Diagnostics;
using k8s;
using k8s.Models;
using Trellis.Local.Connectivity;
using Trellis.Testing;

namespace Trellis.Bench.NetworkPolicy;

/// <summary>
/// How long a change takes to be enforced in a running cluster: trellis-local (three nodes,
/// Direct), a client pod probing a server pod on another node with a new probe every 20 ms; a deny policy is created, then deleted, then a policy waits for a label that is added,
/// then removed. The latency is from the API write to the start of the first probe that shows
/// the change (the probes' spacing bounds the error).
/// </summary>
public static class EnforcementLatency
{
    private static readonly TimeSpan Spacing = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromMilliseconds(400);

    public sealed record Latencies(List<double> PolicyCreated, List<double> PolicyDeleted, List<double> LabelAdded, List<double> LabelRemoved);

    public static async Task<Latencies> MeasureAsync(int rounds)
    {
        using var run = new LocalClusterRun();
        var up = run.StartUp("--nodes", "3", "--pods-per-node", "0", "--routing", "Direct");
        try
        {
            using var client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(run.Kubeconfig));
            await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "bench" } });
            await client.CoreV1.CreateNamespacedPodAsync(ServingPod("server", "node1"), "bench");
            await client.CoreV1.CreateNamespacedPodAsync(ServingPod("client", "node2"), "bench");
            var endpoints = new Dictionary<string, PodEndpoint>();
            LocalClusterRun.Eventually(() =>
            {
                endpoints = ClusterPods.ListAsync(client, CancellationToken.None).GetAwaiter().GetResult().Where(e => e.Namespace == "bench").ToDictionary(e => e.Name);
                return endpoints.Count == 2;
            }, "the bench pods are Running", 150);
            var probes = new Prober(endpoints["client"], endpoints["server"]);
            await probes.WaitAsync(DateTime.UtcNow, connected: true);

            var result = new Latencies([], [], [], []);
            for (int round = 0; round < rounds; round++)
            {
                var t = DateTime.UtcNow;
                await client.NetworkingV1.CreateNamespacedNetworkPolicyAsync(Policy("deny", null), "bench");
                result.PolicyCreated.Add(await probes.WaitAsync(t, connected: false));
                t = DateTime.UtcNow;
                await client.NetworkingV1.DeleteNamespacedNetworkPolicyAsync("deny", "bench");
                result.PolicyDeleted.Add(await probes.WaitAsync(t, connected: true));

                await client.NetworkingV1.CreateNamespacedNetworkPolicyAsync(Policy("by-label", "isolated"), "bench");
                await Task.Delay(500);
                t = DateTime.UtcNow;
                await client.CoreV1.PatchNamespacedPodAsync(LabelPatch("yes"), "server", "bench");
                result.LabelAdded.Add(await probes.WaitAsync(t, connected: false));
                t = DateTime.UtcNow;
                await client.CoreV1.PatchNamespacedPodAsync(LabelPatch(null), "server", "bench");
                result.LabelRemoved.Add(await probes.WaitAsync(t, connected: true));
                await client.NetworkingV1.DeleteNamespacedNetworkPolicyAsync("by-label", "bench");
                Console.WriteLine($"enforcement round {round + 1}: policy created {result.PolicyCreated[^1]:0} ms, deleted {result.PolicyDeleted[^1]:0} ms, " +
                    $"label added {result.LabelAdded[^1]:0} ms, removed {result.LabelRemoved[^1]:0} ms");
                await Task.Delay(500);
            }
            await probes.DisposeAsync();
            return result;
        }
        finally
        {
            if (!up.HasExited) up.Kill();
            up.WaitForExit();
        }
    }

    private static V1Pod ServingPod(string name, string node) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "bench", Labels = new Dictionary<string, string> { ["app"] = name } },
        Spec = new V1PodSpec
        {
            NodeName = node,
            Containers = [new V1Container { Name = "serve", Image = "agnhost", Ports = [new V1ContainerPort { ContainerPort = 80, Protocol = "TCP", Name = "http" }] }],
        },
    };

    private static V1NetworkPolicy Policy(string name, string? label) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "bench" },
        Spec = new V1NetworkPolicySpec
        {
            PodSelector = new V1LabelSelector { MatchLabels = label is null ? new Dictionary<string, string> { ["app"] = "server" } : new Dictionary<string, string> { [label] = "yes" } },
            PolicyTypes = ["Ingress"],
        },
    };

    private static V1Patch LabelPatch(string? value) =>
        new(KubernetesJson.Serialize(new { metadata = new { labels = new Dictionary<string, string?> { ["isolated"] = value } } }), V1Patch.PatchType.MergePatch);

    /// <summary>A probe started every 20 ms whether or not the earlier ones have finished, every outcome kept with its start time.</summary>
    private sealed class Prober : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly List<(DateTime Started, bool Connected)> _outcomes = [];
        private readonly List<Task> _inFlight = [];
        private readonly Task _loop;

        public Prober(PodEndpoint from, PodEndpoint to)
        {
            _loop = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    var started = DateTime.UtcNow;
                    var probe = Task.Run(async () =>
                    {
                        var result = await PodProber.ProbeAsync(from, to, 80, "TCP", ProbeTimeout, CancellationToken.None);
                        lock (_outcomes) _outcomes.Add((started, result.Connected));
                    });
                    lock (_inFlight)
                    {
                        _inFlight.RemoveAll(t => t.IsCompleted);
                        _inFlight.Add(probe);
                    }
                    await Task.Delay(Spacing);
                }
            });
        }

        /// <summary>Milliseconds from <paramref name="since"/> to the start of the first probe after it with the wanted outcome.</summary>
        public async Task<double> WaitAsync(DateTime since, bool connected)
        {
            var deadline = Stopwatch.StartNew();
            while (deadline.Elapsed < TimeSpan.FromSeconds(60))
            {
                lock (_outcomes)
                {
                    var hit = _outcomes.Where(o => o.Started >= since && o.Connected == connected).Select(o => (DateTime?)o.Started).Min();
                    // Only once every probe started before the hit has finished can the hit be the first.
                    if (hit is { } at && DateTime.UtcNow - at > ProbeTimeout + TimeSpan.FromMilliseconds(100)) return (at - since).TotalMilliseconds;
                }
                await Task.Delay(20);
            }
            throw new TimeoutException($"the probes never {(connected ? "connected" : "failed")} after the change");
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _loop;
            Task[] rest;
            lock (_inFlight) rest = [.. _inFlight];
            await Task.WhenAll(rest);
        }
    }
}
