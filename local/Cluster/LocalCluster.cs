using Trellis.ControllerRuntime.Clients;
using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Trellis.ApiServer;
using Trellis.Crds;
using Trellis.Linux;
using Trellis.Local.Connectivity;
using Trellis.Local.Containers;
using Trellis.Local.Namespaces;
using Trellis.Local.Kubelet;
using Trellis.Local.Pods;
using Trellis.Local.Routing;
using Trellis.Local.Topology;
using Trellis.Netlink;

namespace Trellis.Local.Cluster;

/// <summary>
/// A whole Trellis cluster on one machine: the underlay and nodes in network namespaces, the
/// in-process API server, the real operator and a scheduler, and per node one real trellis-agent
/// process and one kubelet process that runs the Pods bound to it (sandbox namespaces wired by the
/// real trellis-cni exactly as a container runtime would).
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    public const string SystemNamespace = "trellis-system";
    private static readonly TimeSpan s_settleTimeout = TimeSpan.FromSeconds(90);

    private readonly LocalClusterOptions _options;
    private readonly StateStore _store;
    private readonly Progress _progress;
    private KubeApiServer? _server;
    private IAsyncDisposable? _controlPlane;
    private Kubernetes? _client;
    private TopologyPlan? _plan;
    private readonly List<string> _refused = [];

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
            s.ReclaimGracePeriod = _options.ReclaimGracePeriod;
            s.Images = _options.Images;
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
            _server.Refused += ReportRefusal;
            _server.WriteKubeconfig(_store.KubeconfigPath);
            // Kubelets hold the admin's identity: node identities (system:node:<name>, the Node authorizer) are not modelled.
            _server.WriteKubeconfig(KubeletKubeconfigPath, new Uri($"https://{plan.ApiAddress}:{TopologyPlan.ApiPort}"));
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

        await _progress.StepAsync(_options.Images
            ? $"operator container ({TrellisImages.Reference(TrellisImages.Operator)}, leader-elected, as ServiceAccount trellis-operator) and scheduler"
            : "operator (leader-elected, as ServiceAccount trellis-operator) and scheduler", async () =>
        {
            var token = await ServiceAccountIdentities.IssueTokenAsync(Client, ServiceAccountIdentities.OperatorAccount, ct);
            if (_options.Images)
            {
                _controlPlane = ControlPlane.Start(null, Client, SystemNamespace);
                StartOperatorContainer(plan, token);
            }
            else _controlPlane = ControlPlane.Start(ServiceAccountIdentities.ClientFor(_server!, token), Client, SystemNamespace);
        });

        var network = Manifests.LoadPodNetwork(_options.NetworkFile);
        if (_options.RouterKind is { } router)
        {
            var role = _options.Routing == RoutingModes.Bgp ? "every node's BGP neighbour and default gateway"
                : $"every node's BGP neighbour; with {_options.Routing} routing the nodes only announce to it";
            await _progress.StepAsync($"{router} in the underlay namespace, {role}", () =>
            {
                var ranges = network.Spec.Cidrs.Select(text => Trellis.Addressing.Cidr.TryParse(text, out var range) ? range : (Trellis.Addressing.Cidr?)null)
                    .OfType<Trellis.Addressing.Cidr>().ToList();
                UnderlayRouter.Start(router, plan, ranges, RouterDirectory);
                _store.Update(s => s.Router = router);
                return Task.CompletedTask;
            });
            network.Spec.Routing.Bgp ??= UnderlayRouter.BgpFor(plan);
        }

        await _progress.StepAsync("PodNetwork", async () =>
        {
            network.Spec.Routing.Mode = _options.Routing;
            await new CustomResourceClient<PodNetwork>(ApiClient.Over(Client)).CreateAsync(network, ct);
            await WaitForNodeSubnetsAsync(plan.Nodes.Select(n => n.Name), ct);
        });

        await _progress.StepAsync(_options.Images ? $"{plan.Nodes.Count} trellis-agent containers ({TrellisImages.Reference(TrellisImages.Agent)})" : $"{plan.Nodes.Count} trellis-agent processes", async () =>
        {
            foreach (var node in plan.Nodes) StartAgent(node.Name, node.Namespace);
            await WaitForProgrammedAsync(plan.Nodes.Select(n => n.Name), ct);
        });

        await _progress.StepAsync($"{plan.Nodes.Count} kubelets, {plan.Nodes.Count * _options.PodsPerNode} pods through trellis-cni", async () =>
        {
            foreach (var node in plan.Nodes) StartKubelet(node.Name, node.Namespace);
            foreach (var node in plan.Nodes) await SeedPods.CreateAsync(Client, node.Name, _options.PodsPerNode, ct);
            await WaitForSeedPodsAsync(null, plan.Nodes.Count * _options.PodsPerNode, ct);
        });
    }

    /// <summary>The requests the API server refused to the operator or an agent while this process served it.</summary>
    public IReadOnlyList<string> RefusedServiceAccountRequests
    {
        get { lock (_refused) return [.. _refused]; }
    }

    /// <summary>
    /// A request of the operator or an agent refused: config/rbac lacks what it needs, and a real cluster would refuse it too.
    /// Said loudly and kept in the state directory, so `run` fails and a test of a cluster that is up can assert there is none.
    /// </summary>
    private void ReportRefusal(Trellis.ApiServer.Authorization.AuthorizationRecord refused)
    {
        if (!refused.User.StartsWith("system:serviceaccount:", StringComparison.Ordinal)) return;
        var what = $"{refused.User} was refused {refused.Verb} {(refused.ApiGroup is { Length: > 0 } group ? group + "/" : "")}{refused.Resource}" +
            (string.IsNullOrEmpty(refused.Namespace) ? "" : $" in namespace {refused.Namespace}");
        Console.Error.WriteLine($"trellis-local: RBAC: {what} (config/rbac lacks it)");
        lock (_refused)
        {
            _refused.Add(what);
            File.AppendAllText(_store.RefusedRequestsPath, what + "\n");
        }
    }

    private string AgentKubeconfigPath => Path.Combine(_store.Directory, "agent.kubeconfig");

    private string RouterDirectory => RouterDirectoryOf(_store);

    public static string RouterDirectoryOf(StateStore store) => Path.Combine(store.Directory, "router");

    private string ConflistPath(string node) => Path.Combine(_store.NodeDirectory(node), "cni", "net.d", "10-trellis.conflist");

    private void StartAgent(string node, string nodeNamespace)
    {
        var directory = _store.NodeDirectory(node);
        var (confDir, binDir, stateDir) = (Path.Combine(directory, "cni", "net.d"), Path.Combine(directory, "cni", "bin"), Path.Combine(directory, "lib"));
        foreach (var created in new[] { confDir, binDir, stateDir }) Directory.CreateDirectory(created);
        string[] arguments =
        [
            "--kubeconfig", AgentKubeconfigPath,
            "--node-name", node,
            "--cni-conf-dir", confDir,
            "--cni-bin-dir", binDir,
            "--state-dir", stateDir,
            "--cni-plugin-source", _options.Images ? $"{ContainerWorkloads.ImagePluginDirectory}/{Path.GetFileName(_options.CniPluginPath)}" : _options.CniPluginPath,
            "--resync-period", "30s",
            .. _options.ReclaimGracePeriod is { } grace ? new[] { "--reclaim-grace-period", grace } : [],
        ];
        var log = Path.Combine(directory, "agent.log");
        int pid;
        if (_options.Images)
        {
            // As the DaemonSet: the init container installs the plugins, then the agent starts with the bin dir read-only.
            var image = TrellisImages.Reference(TrellisImages.Agent);
            Podman.RunChecked(ContainerWorkloads.InstallCni(_options.Prefix, node, image, binDir));
            var container = ContainerWorkloads.AgentName(_options.Prefix, node);
            if (File.Exists(log)) File.Delete(log);
            Podman.RunChecked(ContainerWorkloads.Agent(_options.Prefix, node, image, NamedNetworkNamespace.PathOf(nodeNamespace), binDir,
                [confDir, stateDir], [AgentKubeconfigPath], log, arguments));
            pid = ContainerWorkloads.ProcessId(container);
        }
        else pid = InNamespace.StartDetached(nodeNamespace, _options.AgentPath, arguments, log);
        _store.Update(s => s.Nodes.Single(n => n.Name == node).AgentProcessId = pid);
    }

    private string OperatorLogPath => Path.Combine(_store.Directory, "operator.log");

    /// <summary>The operator image on the underlay's network (the control plane's host), as its ServiceAccount.</summary>
    private void StartOperatorContainer(TopologyPlan plan, string token)
    {
        var kubeconfig = Path.Combine(_store.Directory, "operator.kubeconfig");
        _server!.WriteKubeconfig(kubeconfig, new Uri($"https://{plan.ApiAddress}:{TopologyPlan.ApiPort}"), token, ServiceAccountIdentities.OperatorAccount);
        // The image's user is not root: it must be able to read its kubeconfig (the state directory is root's alone otherwise).
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException("containers run on Linux");
        File.SetUnixFileMode(kubeconfig, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        Podman.RunChecked(ContainerWorkloads.Operator(_options.Prefix, TrellisImages.Reference(TrellisImages.Operator),
            NamedNetworkNamespace.PathOf(plan.UnderlayNamespace), kubeconfig, OperatorLogPath));
    }

    /// <summary>Node identities are the API server's to give (issue 11); until then kubelets use a kubeconfig of their own, like agents.</summary>
    private string KubeletKubeconfigPath => Path.Combine(_store.Directory, "kubelet.kubeconfig");

    private KubeletOptions KubeletOptionsFor(string node, string nodeNamespace) => new()
    {
        NodeName = node,
        NodeDirectory = _store.NodeDirectory(node),
        Prefix = _options.Prefix,
        NodeNamespace = nodeNamespace,
        // With images, the chained plugins too come from the agent image (its init container installs them), not from this machine.
        CniPluginDirectories = _options.Images ? [Path.Combine(_store.NodeDirectory(node), "cni", "bin")]
            : [Path.Combine(_store.NodeDirectory(node), "cni", "bin"), _options.ReferencePluginDirectory],
    };

    /// <summary>The node's kubelet as its own process inside the node's namespace, as kubelet runs on the host network.</summary>
    private void StartKubelet(string node, string nodeNamespace)
    {
        int pid = InNamespace.StartSelfDetached(nodeNamespace, KubeletCommand.Arguments(KubeletOptionsFor(node, nodeNamespace), KubeletKubeconfigPath),
            Path.Combine(_store.NodeDirectory(node), "kubelet.log"));
        _store.Update(s => s.Nodes.Single(n => n.Name == node).KubeletProcessId = pid);
    }

    private Task WaitForSeedPodsAsync(string? node, int count, CancellationToken ct) =>
        SeedPods.WaitRunningAsync(Client, node is null ? null : $"spec.nodeName={node}", count, s_settleTimeout, ct);

    private async Task WaitForNodeSubnetsAsync(IEnumerable<string> nodes, CancellationToken ct)
    {
        var wanted = nodes.ToHashSet();
        await Until.TrueAsync("every node has a NodeSubnet", s_settleTimeout, async () =>
        {
            var subnets = await ListNodeSubnetsAsync(ct);
            return wanted.All(n => subnets.Any(s => s.Spec.NodeName == n));
        }, ct, () => _options.Images ? $"operator: {LogTail(OperatorLogPath)}" : "");
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

    private string AgentLogTail(string node) => LogTail(Path.Combine(_store.NodeDirectory(node), "agent.log"));

    private static string LogTail(string log) => File.Exists(log) ? string.Join(" | ", File.ReadLines(log).TakeLast(3)) : $"no {Path.GetFileName(log)}";

    public async Task<IReadOnlyList<NodeSubnet>> ListNodeSubnetsAsync(CancellationToken ct)
    {
        return await new CustomResourceClient<NodeSubnet>(ApiClient.Over(Client)).ListAsync(cancellationToken: ct);
    }

    /// <summary>Adds a node while the cluster is up: namespace, Node object, agent, kubelet, pods.</summary>
    public static async Task AddNodeAsync(StateStore store, string name, LocalClusterOptions options, Progress progress, CancellationToken ct)
    {
        if (!store.Exists) throw new LocalClusterException($"no local cluster is up (no state in {store.Directory})");
        using var nodeLock = store.LockNode(name);
        var state = store.Load() ?? throw new LocalClusterException($"no local cluster is up (no state in {store.Directory})");
        if (NodeNameProblem(name) is { } problem) throw new LocalClusterException(problem);
        if (state.Nodes.Any(n => n.Name == name)) throw new LocalClusterException($"node {name} already exists");
        var names = state.Nodes.OrderBy(n => n.Ordinal).Select(n => n.Name).Append(name).ToList();
        var plan = TopologyPlan.Create(state.Prefix, state.Topology, names);
        var node = plan.Nodes[^1];
        var cluster = Attach(store, state, options, progress, plan);
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
        await progress.StepAsync($"kubelet and {state.PodsPerNode} pods", async () =>
        {
            cluster.StartKubelet(name, node.Namespace);
            await SeedPods.CreateAsync(cluster.Client, name, state.PodsPerNode, ct);
            await cluster.WaitForSeedPodsAsync(name, state.PodsPerNode, ct);
        });
    }

    /// <summary>
    /// Removes a node as a drain does: its Pods are deleted and its kubelet tears their sandboxes down
    /// (CNI DEL); then its Node object (the operator frees its block), its kubelet, agent and namespace.
    /// </summary>
    public static async Task RemoveNodeAsync(StateStore store, string name, LocalClusterOptions options, Progress progress, CancellationToken ct)
    {
        if (!store.Exists) throw new LocalClusterException($"no local cluster is up (no state in {store.Directory})");
        using var nodeLock = store.LockNode(name);
        var state = store.Load() ?? throw new LocalClusterException($"no local cluster is up (no state in {store.Directory})");
        var node = state.Nodes.SingleOrDefault(n => n.Name == name) ?? throw new LocalClusterException($"no node {name} in the local cluster");
        var client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(store.KubeconfigPath));
        await progress.StepAsync($"pods of {name} deleted, sandboxes torn down by its kubelet (CNI DEL)", async () =>
        {
            var field = $"spec.nodeName={name}";
            foreach (var pod in (await client.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: field, cancellationToken: ct)).Items)
            {
                try { await client.CoreV1.DeleteNamespacedPodAsync(pod.Metadata.Name, pod.Metadata.NamespaceProperty, cancellationToken: ct); }
                catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound) { }
            }
            await Until.TrueAsync($"the kubelet of {name} has stopped its pods", s_settleTimeout,
                async () => (await client.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: field, cancellationToken: ct)).Items.Count == 0, ct,
                () => LogTail(Path.Combine(store.NodeDirectory(name), "kubelet.log")));
            if (node.KubeletProcessId is { } kubelet) Teardown.Stop(kubelet);
        });
        await progress.StepAsync($"Node {name}", async () =>
        {
            await client.CoreV1.DeleteNodeAsync(name, cancellationToken: ct);
            await Until.TrueAsync($"the NodeSubnet of {name} is gone", s_settleTimeout, async () =>
            {
                var list = await new CustomResourceClient<NodeSubnet>(ApiClient.Over(client)).ListAsync(cancellationToken: ct);
                return list.All(s => s.Spec.NodeName != name);
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
                s.Namespaces.RemoveAll(n => n == node.Namespace);
            });
            return Task.CompletedTask;
        });
    }

    /// <summary>
    /// A power cut and a boot: the node's agent, kubelet and every pod sandbox vanish at once with no
    /// CNI DEL, and with them everything the kernel held for the node (its namespace: bridge, routes,
    /// veths); what a real node keeps on disk stays (the conflist, the plugin, the agent's and IPAM's
    /// state under lib/), what it keeps in /run does not (the sandbox records). Then the namespace is
    /// made again and the agent and kubelet start; every Pod of the node gets a new sandbox.
    /// </summary>
    public static async Task RebootNodeAsync(StateStore store, string name, LocalClusterOptions options, Progress progress, CancellationToken ct)
    {
        if (!store.Exists) throw new LocalClusterException($"no local cluster is up (no state in {store.Directory})");
        using var nodeLock = store.LockNode(name);
        var state = store.Load() ?? throw new LocalClusterException($"no local cluster is up (no state in {store.Directory})");
        var record = state.Nodes.SingleOrDefault(n => n.Name == name) ?? throw new LocalClusterException($"no node {name} in the local cluster");
        var plan = TopologyPlan.Create(state.Prefix, state.Topology, state.Nodes.OrderBy(n => n.Ordinal).Select(n => n.Name).ToList());
        var node = plan.Nodes.Single(n => n.Name == name);
        var cluster = Attach(store, state, options, progress, plan);
        var field = $"spec.nodeName={name}";
        var before = (await cluster.Client.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: field, cancellationToken: ct)).Items
            .ToDictionary(p => p.Metadata.Uid, p => PodStatusReport.Annotation(p.Metadata, PodStatusReport.SandboxAnnotation));

        await progress.StepAsync($"power cut on {name}: agent, kubelet and {before.Count} sandboxes gone at once, no CNI DEL", () =>
        {
            var processes = new[] { record.AgentProcessId, record.KubeletProcessId }.OfType<int>().Where(ProcessIsAlive).ToList();
            foreach (var pid in processes) LibC.Kill(pid, LibC.SIGKILL);
            foreach (var pid in processes) Teardown.WaitGone(pid, TimeSpan.FromSeconds(10));
            var runDirectory = KubeletOptions.RunDirectoryOf(store.NodeDirectory(name));
            foreach (var sandbox in SandboxStore.Read(KubeletOptions.SandboxDirectoryOf(store.NodeDirectory(name))))
                if (sandbox.NetnsName is not null) NamedNetworkNamespace.Delete(sandbox.NetnsName);
            NamedNetworkNamespace.Delete(node.Namespace);
            if (Directory.Exists(runDirectory)) Directory.Delete(runDirectory, recursive: true);
            return Task.CompletedTask;
        });
        await progress.StepAsync($"boot of {name}: namespace, agent, kubelet", async () =>
        {
            // The kernel dismantles a namespace's links after the namespace is gone; its underlay veth must be gone before it is made again.
            using (var underlay = Netlink.NetlinkHandle.OpenNamespace(NamedNetworkNamespace.PathOf(plan.UnderlayNamespace)))
                await Until.TrueAsync($"the underlay link {node.UnderlayLinkName} of the old {name} is gone", TimeSpan.FromSeconds(30),
                    () => Task.FromResult(underlay.FindLink(node.UnderlayLinkName) is null), ct);
            TopologyBuilder.BuildNode(plan, node);
            cluster.StartAgent(name, node.Namespace);
            cluster.StartKubelet(name, node.Namespace);
        });
        await progress.StepAsync($"every pod of {name} Running in a new sandbox", async () =>
        {
            IList<V1Pod> pods = [];
            await Until.TrueAsync($"every pod of {name} is Running in a new sandbox", s_settleTimeout, async () =>
            {
                pods = (await cluster.Client.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: field, cancellationToken: ct)).Items;
                return pods.All(p => SeedPods.IsRunning(p)
                    && PodStatusReport.Annotation(p.Metadata, PodStatusReport.SandboxAnnotation) is { } sandbox
                    && (!before.TryGetValue(p.Metadata.Uid, out var old) || old != sandbox));
            }, ct, () => LogTail(Path.Combine(store.NodeDirectory(name), "kubelet.log")));
        });
    }

    /// <summary>Stops a node's agent or kubelet: SIGTERM (a clean stop; a stopped kubelet's pods stop answering), or SIGKILL (a crash).</summary>
    public static async Task StopComponentAsync(StateStore store, string name, NodeComponent component, bool kill, Progress progress)
    {
        if (!store.Exists) throw new LocalClusterException($"no local cluster is up (no state in {store.Directory})");
        using var nodeLock = store.LockNode(name);
        var node = store.Load()!.Nodes.SingleOrDefault(n => n.Name == name) ?? throw new LocalClusterException($"no node {name} in the local cluster");
        var pid = component == NodeComponent.Agent ? node.AgentProcessId : node.KubeletProcessId;
        await progress.StepAsync($"{(kill ? "kill" : "stop")} the {component.ToString().ToLowerInvariant()} of {name}", () =>
        {
            if (pid is { } running && ProcessIsAlive(running))
            {
                if (kill)
                {
                    LibC.Kill(running, LibC.SIGKILL);
                    Teardown.WaitGone(running, TimeSpan.FromSeconds(10));
                }
                else Teardown.Stop(running);
            }
            store.Update(s =>
            {
                var record = s.Nodes.Single(n => n.Name == name);
                if (component == NodeComponent.Agent) record.AgentProcessId = null; else record.KubeletProcessId = null;
            });
            return Task.CompletedTask;
        });
    }

    /// <summary>Starts a node's agent or kubelet again; the kubelet takes over the sandboxes on record.</summary>
    public static async Task StartComponentAsync(StateStore store, string name, NodeComponent component, LocalClusterOptions options, Progress progress)
    {
        if (!store.Exists) throw new LocalClusterException($"no local cluster is up (no state in {store.Directory})");
        using var nodeLock = store.LockNode(name);
        var state = store.Load()!;
        var node = state.Nodes.SingleOrDefault(n => n.Name == name) ?? throw new LocalClusterException($"no node {name} in the local cluster");
        var pid = component == NodeComponent.Agent ? node.AgentProcessId : node.KubeletProcessId;
        if (pid is { } running && ProcessIsAlive(running))
            throw new LocalClusterException($"the {component.ToString().ToLowerInvariant()} of {name} is running (process {running})");
        var cluster = Attach(store, state, options, progress, TopologyPlan.Create(state.Prefix, state.Topology, state.Nodes.OrderBy(n => n.Ordinal).Select(n => n.Name).ToList()));
        await progress.StepAsync($"start the {component.ToString().ToLowerInvariant()} of {name}", () =>
        {
            if (component == NodeComponent.Agent) cluster.StartAgent(name, node.Namespace); else cluster.StartKubelet(name, node.Namespace);
            return Task.CompletedTask;
        });
    }

    /// <summary>A cluster object for a command run in another process than `up` (node add, remove, reboot).</summary>
    private static LocalCluster Attach(StateStore store, LocalClusterState state, LocalClusterOptions options, Progress progress, TopologyPlan plan) =>
        new(options with { Prefix = state.Prefix, PodsPerNode = state.PodsPerNode, ReclaimGracePeriod = state.ReclaimGracePeriod, StateDirectory = store.Directory, Images = state.Images }, progress)
        {
            _plan = plan,
            _client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(store.KubeconfigPath)),
        };

    /// <summary>
    /// A node name the local cluster can use: a DNS label short enough for its underlay veth
    /// ("u-" + name, 15 bytes at most) that cannot be mistaken for a pod sandbox's namespace.
    /// </summary>
    public static string? NodeNameProblem(string name) =>
        !System.Text.RegularExpressions.Regex.IsMatch(name, "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$") ? $"node name \"{name}\" must be lowercase letters, digits and '-', starting and ending with a letter or digit"
        : name.Length > 13 ? $"node name \"{name}\" is longer than 13 characters (its underlay link u-{name} would not fit in 15)"
        : name.StartsWith("pod-", StringComparison.Ordinal) ? $"node name \"{name}\" may not start with \"pod-\": that is where pod sandbox namespaces are named"
        : null;

    internal static bool ProcessIsAlive(int pid) =>
        pid > 0 && pid != Environment.ProcessId && Directory.Exists($"/proc/{pid}");

    public async ValueTask DisposeAsync()
    {
        if (_controlPlane is not null) await _controlPlane.DisposeAsync();
        _client?.Dispose();
        if (_server is not null) await _server.DisposeAsync();
    }
}

public sealed class LocalClusterException(string message) : Exception(message);

/// <summary>The processes a simulated node runs.</summary>
public enum NodeComponent { Agent, Kubelet }
