using System.Diagnostics;
using System.Net;
using k8s;
using k8s.Models;
using Trellis.Local.Connectivity;
using Trellis.NetworkPolicy.Tests.Model;
using Trellis.Testing;

namespace Trellis.NetworkPolicy.Tests.EndToEnd;

/// <summary>
/// The upstream model in the local cluster (trellis-local up: API server, operator, three real
/// agents and kubelets in namespaces): namespaces x, y, z and pods a, b, c in each, spread over the
/// three nodes so every namespace has a pod on every node, each serving TCP and UDP on 80 and 81
/// (and declaring SCTP, which this kernel cannot serve). The in-memory <see cref="ClusterState"/>
/// is what the cases change; <see cref="SyncAsync"/> makes the API hold it.
/// </summary>
public abstract class PolicyCluster : IAsyncLifetime
{
    /// <summary>Which node runs each pod: a, b, c of one namespace on three different nodes, rotated per namespace.</summary>
    public static string NodeOf(string key)
    {
        int ns = Array.IndexOf(UpstreamModel.NamespaceNames, key.Split('/')[0]);
        int pod = Array.IndexOf(UpstreamModel.PodNames, key.Split('/')[1]);
        return $"node{1 + (ns + pod) % 3}";
    }

    private readonly string[] _routing;
    private Process? _up;

    /// <param name="routing">How `trellis-local up` routes between nodes: --routing and, for BGP, --router.</param>
    protected PolicyCluster(params string[] routing) => _routing = routing;

    public LocalClusterRun Run { get; } = new();
    public Kubernetes Client { get; private set; } = null!;
    public ClusterState State { get; private set; } = null!;
    public IReadOnlyDictionary<string, PodEndpoint> Endpoints { get; private set; } = new Dictionary<string, PodEndpoint>();

    public async Task InitializeAsync()
    {
        _up = Run.StartUp(["--nodes", "3", "--pods-per-node", "0", .. _routing]);
        Client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(Run.Kubeconfig));
        foreach (var ns in UpstreamModel.NamespaceNames)
            await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns, Labels = new Dictionary<string, string> { ["ns"] = ns } } });
        var placeholder = UpstreamModel.Build(_ => [], NodeOf);
        foreach (var pod in placeholder.Pods)
        {
            var manifest = pod.ToObject();
            manifest.Status = null;
            await Client.CoreV1.CreateNamespacedPodAsync(manifest, pod.Namespace);
        }
        Refresh();
    }

    /// <summary>Reads the pods' sandboxes and addresses again (after a node reboot gave them new ones) and starts a fresh state.</summary>
    public void Refresh()
    {
        var endpoints = new Dictionary<string, PodEndpoint>();
        LocalClusterRun.Eventually(() =>
        {
            endpoints = Client.CoreV1.ListPodForAllNamespacesAsync().GetAwaiter().GetResult().Items
                .Where(p => UpstreamModel.NamespaceNames.Contains(p.Metadata.NamespaceProperty))
                .Select(p => PodEndpoint.From(p, out _)).OfType<PodEndpoint>().ToDictionary(e => e.Key);
            return endpoints.Count == 9;
        }, "the nine model pods are Running with an address, each reported for its current sandbox (PodEndpoint.From)", 150);
        Endpoints = endpoints;
        State = UpstreamModel.Build(key => endpoints[key].Addresses, NodeOf);
        foreach (var pod in State.Pods) Assert.Equal(pod.Node, endpoints[pod.Key].Node);
    }

    /// <summary>Makes the API hold <see cref="State"/>: its policies (created, replaced, deleted) and the labels of its namespaces and pods.</summary>
    public async Task SyncAsync()
    {
        var wanted = State.Policies.ToDictionary(p => $"{p.Metadata.NamespaceProperty}/{p.Metadata.Name}");
        foreach (var ns in UpstreamModel.NamespaceNames)
            foreach (var existing in (await Client.NetworkingV1.ListNamespacedNetworkPolicyAsync(ns)).Items)
            {
                var key = $"{ns}/{existing.Metadata.Name}";
                if (!wanted.TryGetValue(key, out var policy))
                {
                    await Client.NetworkingV1.DeleteNamespacedNetworkPolicyAsync(existing.Metadata.Name, ns);
                    continue;
                }
                wanted.Remove(key);
                if (k8s.KubernetesJson.Serialize(policy.Spec) == k8s.KubernetesJson.Serialize(existing.Spec)) continue;
                var replacement = k8s.KubernetesJson.Deserialize<V1NetworkPolicy>(k8s.KubernetesJson.Serialize(policy));
                replacement.Metadata.ResourceVersion = existing.Metadata.ResourceVersion;
                await Client.NetworkingV1.ReplaceNamespacedNetworkPolicyAsync(replacement, existing.Metadata.Name, ns);
            }
        foreach (var policy in wanted.Values)
            await Client.NetworkingV1.CreateNamespacedNetworkPolicyAsync(k8s.KubernetesJson.Deserialize<V1NetworkPolicy>(k8s.KubernetesJson.Serialize(policy)), policy.Metadata.NamespaceProperty);

        foreach (var (ns, labels) in State.NamespaceLabels)
        {
            var current = (await Client.CoreV1.ReadNamespaceAsync(ns)).Metadata.Labels ?? new Dictionary<string, string>();
            if (LabelPatch(current, labels) is { } patch) await Client.CoreV1.PatchNamespaceAsync(patch, ns);
        }
        foreach (var pod in State.Pods)
        {
            var current = (await Client.CoreV1.ReadNamespacedPodAsync(pod.Name, pod.Namespace)).Metadata.Labels ?? new Dictionary<string, string>();
            if (LabelPatch(current, pod.Labels) is { } patch) await Client.CoreV1.PatchNamespacedPodAsync(patch, pod.Name, pod.Namespace);
        }
    }

    /// <summary>A JSON merge patch turning <paramref name="current"/> labels into <paramref name="wanted"/> (the name label is the API's to keep).</summary>
    private static V1Patch? LabelPatch(IDictionary<string, string> current, IDictionary<string, string> wanted)
    {
        var changes = new Dictionary<string, string?>();
        foreach (var (key, value) in wanted)
            if (!current.TryGetValue(key, out var now) || now != value) changes[key] = value;
        foreach (var key in current.Keys)
            if (!wanted.ContainsKey(key) && key != Facts.PolicyInputs.NamespaceNameLabel) changes[key] = null;
        if (changes.Count == 0) return null;
        return new V1Patch(k8s.KubernetesJson.Serialize(new { metadata = new { labels = changes } }), V1Patch.PatchType.MergePatch);
    }

    /// <summary>What the API holds now, as the reference evaluator reads it.</summary>
    public async Task<(IReadOnlyList<V1NetworkPolicy> Policies, IReadOnlyList<V1Namespace> Namespaces, IReadOnlyDictionary<string, V1Pod> Pods)> ReadAsync()
    {
        var policies = (await Client.NetworkingV1.ListNetworkPolicyForAllNamespacesAsync()).Items.ToList();
        var namespaces = (await Client.CoreV1.ListNamespaceAsync()).Items.ToList();
        var pods = (await Client.CoreV1.ListPodForAllNamespacesAsync()).Items
            .ToDictionary(p => $"{p.Metadata.NamespaceProperty}/{p.Metadata.Name}");
        return (policies, namespaces, pods);
    }

    public IPAddress Address(string pod) => Endpoints[pod].Addresses[0];

    public Task DisposeAsync()
    {
        Client?.Dispose();
        if (_up is { HasExited: false }) _up.Kill();
        _up?.WaitForExit();
        Run.Dispose();
        return Task.CompletedTask;
    }
}

public sealed class DirectPolicyCluster() : PolicyCluster("--routing", "Direct");

public sealed class VxlanPolicyCluster() : PolicyCluster("--routing", "VXLAN");

/// <summary>Auto over a mixed underlay: node1 and node2 share a segment (direct routes), node3 sits behind a router (VXLAN).</summary>
public sealed class AutoPolicyCluster() : PolicyCluster("--routing", "Auto", "--topology", "mixed");

/// <summary>No node routes another's block: the agents announce them to FRR in the underlay, every node's gateway.</summary>
public sealed class BgpPolicyCluster() : PolicyCluster("--routing", "BGP", "--router", "frr");
