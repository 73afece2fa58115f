using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Trellis.ApiServer;
using Trellis.Crds;
using Trellis.Local.Connectivity;
using Trellis.Local.Namespaces;
using Trellis.Local.Pods;
using Trellis.Local.Topology;

namespace Trellis.Local.Cluster;

/// <summary>
/// A whole Trellis cluster on one machine: the underlay and nodes in network namespaces, the
/// in-process API server, the real operator, one real trellis-agent process per node, and pods
/// wired by the real trellis-cni exactly as a container runtime would.
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    public const string SystemNamespace = "trellis-system";
    private static readonly TimeSpan s_settleTimeout = TimeSpan.FromSeconds(90);

    private readonly LocalClusterOptions _options;
    private readonly StateStore _store;
    private readonly Progress _progress;
    private KubeApiServer? _server;
    private IAsyncDisposable? _operator;
    private Kubernetes? _client;
    private TopologyPlan? _plan;

    public LocalCluster(LocalClusterOptions options, Progress progress)
    {
        _options = options;
        _store = new StateStore(options.StateDirectory);
        _progress = progress;
    }

    public Kubernetes Client => _client ?? throw new InvalidOperationException("the cluster is not up");
    public string KubeconfigPath => _store.KubeconfigPath;

    public async Task UpAsync(CancellationToken ct)
    {
        if (_store.Load() is { } existing && ProcessIsAlive(existing.UpProcessId))
            throw new LocalClusterException($"a local cluster is already up (process {existing.UpProcessId}, state in {_store.Directory}); run `trellis-local down` first");
        Teardown.Run(_store, _options.Prefix, quiet: true);

        var plan = _plan = TopologyPlan.Create(_options.Prefix, _options.Topology, _options.Nodes);
        _store.Update(s =>
        {
            s.UpProcessId = Environment.ProcessId;
            s.Prefix = plan.Prefix;
            s.Topology = plan.Kind;
            s.Routing = _options.Routing;
            s.PodsPerNode = _options.PodsPerNode;
            s.Namespaces.Add(plan.UnderlayNamespace);
            s.Nodes.AddRange(plan.Nodes.Select(n => new NodeRecord { Name = n.Name, Ordinal = n.Ordinal, Namespace = n.Namespace }));
            s.Namespaces.AddRange(plan.Nodes.Select(n => n.Namespace));
        });

        await _progress.StepAsync($"underlay: {plan.Nodes.Count} node namespaces on {plan.Segments.Count} segment(s), {plan.Kind.ToString().ToLowerInvariant()}", () =>
        {
            TopologyBuilder.BuildUnderlay(plan);
            foreach (var node in plan.Nodes) TopologyBuilder.BuildNode(plan, node);
            return Task.CompletedTask;
        });

        await _progress.StepAsync("API server on 127.0.0.1 and on the underlay", async () =>
        {
            var options = new KubeApiServerOptions();
            options.AdditionalListeners.Add(TopologyBuilder.ListenInUnderlay(plan));
            _server = await KubeApiServer.StartAsync(options, ct);
            _server.WriteKubeconfig(_store.KubeconfigPath);
            _client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(_store.KubeconfigPath));
            _store.Update(s => { s.Kubeconfig = _store.KubeconfigPath; s.ApiServer = _server.BaseAddress.ToString(); });
            await Manifests.InstallCrdsAsync(Client, ct);
            await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = SystemNamespace } }, cancellationToken: ct);
            await ServiceAccountIdentities.ApplyRbacAsync(Client, ct);
            var agentToken = await ServiceAccountIdentities.IssueTokenAsync(Client, ServiceAccountIdentities.AgentAccount, ct);
            _server.WriteKubeconfig(AgentKubeconfigPath, new Uri($"https://{plan.ApiAddress}:{TopologyPlan.ApiPort}"), agentToken, ServiceAccountIdentities.AgentAccount);
        });

        await _progress.StepAsync("Node objects", async () =>
        {
            foreach (var node in plan.Nodes) await NodeObjects.CreateAsync(Client, node, ct);
        });

        await _progress.StepAsync("operator (leader-elected, as ServiceAccount trellis-operator)", async () =>
        {
            var token = await ServiceAccountIdentities.IssueTokenAsync(Client, ServiceAccountIdentities.OperatorAccount, ct);
            _operator = OperatorRunner.Start(ServiceAccountIdentities.ClientFor(_server!, token), SystemNamespace);
        });

        await _progress.StepAsync("PodNetwork", async () =>
        {
            var network = Manifests.LoadPodNetwork(_options.NetworkFile);
            network.Spec.Routing.Mode = _options.Routing;
            await Client.CustomObjects.CreateClusterCustomObjectAsync(network, TrellisApi.Group, TrellisApi.Version, PodNetwork.Plural, cancellationToken: ct);
            await WaitForNodeSubnetsAsync(plan.Nodes.Select(n => n.Name), ct);
        });

        await _progress.StepAsync($"{plan.Nodes.Count} trellis-agent processes", async () =>
        {
            foreach (var node in plan.Nodes) StartAgent(node.Name, node.Namespace);
            await WaitForProgrammedAsync(plan.Nodes.Select(n => n.Name), ct);
        });

        await _progress.StepAsync($"{plan.Nodes.Count * _options.PodsPerNode} pods through trellis-cni", async () =>
        {
            foreach (var node in plan.Nodes) await AddPodsAsync(node.Name, node.Namespace, _options.PodsPerNode, ct);
        });
    }

    private string AgentKubeconfigPath => Path.Combine(_store.Directory, "agent.kubeconfig");

    private string ConflistPath(string node) => Path.Combine(_store.NodeDirectory(node), "cni", "net.d", "10-trellis.conflist");

    private void StartAgent(string node, string nodeNamespace)
    {
        var directory = _store.NodeDirectory(node);
        Directory.CreateDirectory(Path.Combine(directory, "cni", "net.d"));
        Directory.CreateDirectory(Path.Combine(directory, "cni", "bin"));
        Directory.CreateDirectory(Path.Combine(directory, "lib"));
        int pid = InNamespace.StartDetached(nodeNamespace, _options.AgentPath,
        [
            "--kubeconfig", AgentKubeconfigPath,
            "--node-name", node,
            "--cni-conf-dir", Path.Combine(directory, "cni", "net.d"),
            "--cni-bin-dir", Path.Combine(directory, "cni", "bin"),
            "--state-dir", Path.Combine(directory, "lib"),
            "--cni-plugin-source", _options.CniPluginPath,
            "--resync-period", "30s",
        ], Path.Combine(directory, "agent.log"));
        _store.Update(s => s.Nodes.Single(n => n.Name == node).AgentProcessId = pid);
    }

    private async Task AddPodsAsync(string node, string nodeNamespace, int count, CancellationToken ct)
    {
        var runtime = new CniRuntime(nodeNamespace, [Path.Combine(_store.NodeDirectory(node), "cni", "bin"), _options.ReferencePluginDirectory]);
        for (int k = 1; k <= count; k++)
        {
            var pod = new PodRecord
            {
                Name = $"{node}-pod{k}",
                Namespace = $"{_options.Prefix}-{node}-pod{k}",
                ContainerId = $"{_options.Prefix}-{node}-pod{k}-{Guid.NewGuid():N}",
            };
            _store.Update(s => { s.Namespaces.Add(pod.Namespace); s.Nodes.Single(n => n.Name == node).Pods.Add(pod); });
            var netns = TopologyBuilder.BuildPodNamespace(pod.Namespace);
            var result = await runtime.AddAsync(ConflistPath(node), new PodAttachment(pod.ContainerId, netns, "eth0"), ct);
            var addresses = (result["ips"] as JsonArray ?? [])
                .Select(ip => ip?["address"]?.GetValue<string>()?.Split('/')[0]).OfType<string>().ToList();
            _store.Update(s =>
            {
                var record = s.Nodes.Single(n => n.Name == node).Pods.Single(p => p.Name == pod.Name);
                record.Addresses = addresses;
                record.Result = result.ToJsonString();
            });
        }
    }

    private async Task WaitForNodeSubnetsAsync(IEnumerable<string> nodes, CancellationToken ct)
    {
        var wanted = nodes.ToHashSet();
        await Until.TrueAsync("every node has a NodeSubnet", s_settleTimeout, async () =>
        {
            var subnets = await ListNodeSubnetsAsync(ct);
            return wanted.All(n => subnets.Any(s => s.Spec.NodeName == n));
        }, ct);
    }

    private async Task WaitForProgrammedAsync(IEnumerable<string> nodes, CancellationToken ct)
    {
        var wanted = nodes.ToList();
        await Until.TrueAsync("every agent reports Programmed and has written its CNI config", s_settleTimeout, async () =>
        {
            var subnets = await ListNodeSubnetsAsync(ct);
            return wanted.All(n => File.Exists(ConflistPath(n)) && subnets.Any(s => s.Spec.NodeName == n &&
                s.Status?.Conditions.Any(c => c.Type == Conditions.Programmed && c.Status == "True") == true));
        }, ct, () => string.Join("; ", wanted.Select(n => $"{n}: {AgentLogTail(n)}")));
    }

    private string AgentLogTail(string node)
    {
        var log = Path.Combine(_store.NodeDirectory(node), "agent.log");
        return File.Exists(log) ? string.Join(" | ", File.ReadLines(log).TakeLast(3)) : "no agent log";
    }

    public async Task<IReadOnlyList<NodeSubnet>> ListNodeSubnetsAsync(CancellationToken ct)
    {
        var list = await Client.CustomObjects.ListClusterCustomObjectAsync<NodeSubnetList>(TrellisApi.Group, TrellisApi.Version, NodeSubnet.Plural, cancellationToken: ct);
        return list.Items.ToList();
    }

    /// <summary>Adds a node while the cluster is up: namespace, Node object, agent, pods.</summary>
    public static async Task AddNodeAsync(StateStore store, string name, LocalClusterOptions options, Progress progress, CancellationToken ct)
    {
        var state = store.Load() ?? throw new LocalClusterException($"no local cluster is up (no state in {store.Directory})");
        if (state.Nodes.Any(n => n.Name == name)) throw new LocalClusterException($"node {name} already exists");
        var names = state.Nodes.OrderBy(n => n.Ordinal).Select(n => n.Name).Append(name).ToList();
        var plan = TopologyPlan.Create(state.Prefix, state.Topology, names);
        var node = plan.Nodes[^1];
        var cluster = new LocalCluster(options with { Prefix = state.Prefix, PodsPerNode = state.PodsPerNode }, progress)
        {
            _plan = plan,
            _client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(store.KubeconfigPath)),
        };
        store.Update(s =>
        {
            s.Namespaces.Add(node.Namespace);
            s.Nodes.Add(new NodeRecord { Name = node.Name, Ordinal = node.Ordinal, Namespace = node.Namespace });
        });
        await progress.StepAsync($"node {name} at {node.Address}", () => { TopologyBuilder.BuildNode(plan, node); return Task.CompletedTask; });
        await progress.StepAsync("Node object and NodeSubnet", async () =>
        {
            await NodeObjects.CreateAsync(cluster.Client, node, ct);
            await cluster.WaitForNodeSubnetsAsync([name], ct);
        });
        await progress.StepAsync("trellis-agent", async () =>
        {
            cluster.StartAgent(name, node.Namespace);
            await cluster.WaitForProgrammedAsync([name], ct);
        });
        await progress.StepAsync($"{state.PodsPerNode} pods", () => cluster.AddPodsAsync(name, node.Namespace, state.PodsPerNode, ct));
    }

    /// <summary>Removes a node: its pods (CNI DEL), its Node object (the operator frees its block), its agent and namespaces.</summary>
    public static async Task RemoveNodeAsync(StateStore store, string name, LocalClusterOptions options, Progress progress, CancellationToken ct)
    {
        var state = store.Load() ?? throw new LocalClusterException($"no local cluster is up (no state in {store.Directory})");
        var node = state.Nodes.SingleOrDefault(n => n.Name == name) ?? throw new LocalClusterException($"no node {name} in the local cluster");
        var client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(store.KubeconfigPath));
        await progress.StepAsync($"pods of {name} (CNI DEL)", async () =>
        {
            var runtime = new CniRuntime(node.Namespace, [Path.Combine(store.NodeDirectory(name), "cni", "bin"), options.ReferencePluginDirectory]);
            var conflist = Path.Combine(store.NodeDirectory(name), "cni", "net.d", "10-trellis.conflist");
            foreach (var pod in node.Pods)
            {
                var previous = pod.Result is null ? null : JsonNode.Parse(pod.Result) as JsonObject;
                await runtime.DeleteAsync(conflist, new PodAttachment(pod.ContainerId, NamedNetworkNamespace.PathOf(pod.Namespace), "eth0"), previous, ct);
                NamedNetworkNamespace.Delete(pod.Namespace);
            }
        });
        await progress.StepAsync($"Node {name}", async () =>
        {
            await client.CoreV1.DeleteNodeAsync(name, cancellationToken: ct);
            await Until.TrueAsync($"the NodeSubnet of {name} is gone", s_settleTimeout, async () =>
            {
                var list = await client.CustomObjects.ListClusterCustomObjectAsync<NodeSubnetList>(TrellisApi.Group, TrellisApi.Version, NodeSubnet.Plural, cancellationToken: ct);
                return list.Items.All(s => s.Spec.NodeName != name);
            }, ct);
        });
        await progress.StepAsync($"agent and namespace of {name}", () =>
        {
            if (node.AgentProcessId is { } pid) Teardown.Stop(pid);
            NamedNetworkNamespace.Delete(node.Namespace);
            if (Directory.Exists(store.NodeDirectory(name))) Directory.Delete(store.NodeDirectory(name), recursive: true);
            store.Update(s =>
            {
                s.Nodes.RemoveAll(n => n.Name == name);
                s.Namespaces.RemoveAll(n => n == node.Namespace || node.Pods.Any(p => p.Namespace == n));
            });
            return Task.CompletedTask;
        });
    }

    internal static bool ProcessIsAlive(int pid) =>
        pid > 0 && pid != Environment.ProcessId && Directory.Exists($"/proc/{pid}");

    public async ValueTask DisposeAsync()
    {
        if (_operator is not null) await _operator.DisposeAsync();
        _client?.Dispose();
        if (_server is not null) await _server.DisposeAsync();
    }
}

public sealed class LocalClusterException(string message) : Exception(message);
