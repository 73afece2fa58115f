using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Trellis.Crds;
using Trellis.Local.Cluster;
using Trellis.ControllerRuntime.Hosting;
using Trellis.Local.Commands;
using Trellis.Local.Connectivity;
using Trellis.Local.Kubelet;
using Trellis.Local.Namespaces;
using Trellis.Local.Output;
using Trellis.Local.Pods;
using Trellis.Local.Topology;

// trellis-local: all of Trellis on one machine, in network namespaces (see README).
// The namespace verb runs another program with the arguments it is given, untouched, so it is not a parsed command.
if (args.Length > 0 && args[0] == NamespaceExec.Verb) return NamespaceExec.RunVerb(args[1..]);

const string Program = LocalCommandLine.Program;
var root = LocalCommandLine.Command(
    up: ProgramCommandLine.Action(Program, LocalCommandLine.BindCluster, new LocalClusterOptionsValidator(),
        (options, ct) => AsRoot(stop => UpAsync(options, new StateStore(options.StateDirectory), stay: true, stop), ct)),
    run: ProgramCommandLine.Action(Program, LocalCommandLine.BindCluster, new LocalClusterOptionsValidator(),
        (options, ct) => AsRoot(stop => UpAsync(options, new StateStore(options.StateDirectory), stay: false, stop), ct)),
    down: ProgramCommandLine.Action(Program, LocalCommandLine.BindCluster, new AcceptAll<LocalClusterOptions>(),
        (options, ct) => AsRoot(_ =>
        {
            Teardown.Run(new StateStore(options.StateDirectory), options.Prefix);
            return Task.FromResult(0);
        }, ct)),
    status: ProgramCommandLine.Action(Program, LocalCommandLine.BindStatus, new StatusOptionsValidator(),
        (options, ct) => AsRoot(stop => StatusAsync(options, stop), ct)),
    probe: ProgramCommandLine.Action(Program, LocalCommandLine.BindProbe, new ProbeOptionsValidator(),
        (options, ct) => AsRoot(stop => ProbeAsync(options, stop), ct)),
    metrics: ProgramCommandLine.Action(Program, LocalCommandLine.BindMetrics, new AcceptAll<MetricsOptions>(),
        (options, ct) => AsRoot(stop => MetricsAsync(options, stop), ct)),
    nodeAdd: ProgramCommandLine.Action(Program, LocalCommandLine.BindNode, new AcceptAll<NodeOptions>(),
        (options, ct) => AsRoot(async stop =>
        {
            await LocalCluster.AddNodeAsync(new StateStore(options.Cluster.StateDirectory), options.Node, options.Cluster, new Progress(Console.Out), stop);
            return 0;
        }, ct)),
    nodeRemove: ProgramCommandLine.Action(Program, LocalCommandLine.BindNode, new AcceptAll<NodeOptions>(),
        (options, ct) => AsRoot(async stop =>
        {
            await LocalCluster.RemoveNodeAsync(new StateStore(options.Cluster.StateDirectory), options.Node, options.Cluster, new Progress(Console.Out), stop);
            return 0;
        }, ct)),
    nodeReboot: ProgramCommandLine.Action(Program, LocalCommandLine.BindNode, new AcceptAll<NodeOptions>(),
        (options, ct) => AsRoot(async stop =>
        {
            await LocalCluster.RebootNodeAsync(new StateStore(options.Cluster.StateDirectory), options.Node, options.Cluster, new Progress(Console.Out), stop);
            return 0;
        }, ct)),
    nodeStop: ProgramCommandLine.Action(Program, LocalCommandLine.BindNodeComponent, new AcceptAll<NodeComponentOptions>(),
        (options, ct) => AsRoot(async _ =>
        {
            await LocalCluster.StopComponentAsync(new StateStore(options.Cluster.StateDirectory), options.Node, options.Component, options.Kill, new Progress(Console.Out));
            return 0;
        }, ct)),
    nodeStart: ProgramCommandLine.Action(Program, LocalCommandLine.BindNodeComponent, new AcceptAll<NodeComponentOptions>(),
        (options, ct) => AsRoot(async _ =>
        {
            await LocalCluster.StartComponentAsync(new StateStore(options.Cluster.StateDirectory), options.Node, options.Component, options.Cluster, new Progress(Console.Out));
            return 0;
        }, ct)),
    kubelet: ProgramCommandLine.Action(Program, LocalCommandLine.BindKubelet, new AcceptAll<KubeletCommandOptions>(),
        (options, _) => KubeletCommand.RunAsync(options.Kubelet, options.Kubeconfig)));
return await ProgramCommandLine.InvokeAsync(Program, root, args);

// Every command but help needs root (it creates network namespaces) and stops cleanly on SIGTERM or Ctrl-C.
static async Task<int> AsRoot(Func<CancellationToken, Task<int>> command, CancellationToken cancellationToken)
{
    if (Environment.UserName != "root" && Trellis.Linux.LibC.GetEffectiveUserId() != 0)
    {
        Console.Error.WriteLine($"{LocalCommandLine.Program}: trellis-local needs root: it creates network namespaces");
        return ProgramCommandLine.UsageError;
    }
    using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
    using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
    using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
    try
    {
        return await command(stop.Token);
    }
    catch (LocalClusterException e)
    {
        Console.Error.WriteLine($"{LocalCommandLine.Program}: {e.Message}");
        return 1;
    }
}

static async Task<int> UpAsync(LocalClusterOptions options, StateStore store, bool stay, CancellationToken stop)
{    // With --json the only thing on stdout is the result; progress goes to stderr.
    var human = options.Json ? Console.Error : Console.Out;
    human.WriteLine($"Trellis local cluster: {options.Nodes} nodes × {options.PodsPerNode} pods, routing {options.Routing}, topology {options.Topology.ToString().ToLowerInvariant()}");
    int exitCode;
    var cluster = new LocalCluster(options, new Progress(human));
    try
    {
        await cluster.UpAsync(stop);
        var report = await ClusterReport.BuildAsync(store, stop);
        if (options.Json) Console.WriteLine(report.Json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        else human.Write(report.Text);
        exitCode = report.Complete ? 0 : 1;
        if (cluster.RefusedServiceAccountRequests is { Count: > 0 } refused)
        {
            Console.Error.WriteLine($"trellis-local: the API server refused the operator or an agent {refused.Count} times; config/rbac lacks: {string.Join("; ", refused.Distinct())}");
            exitCode = 1;
        }
        if (stay && !stop.IsCancellationRequested)
        {
            human.WriteLine($"""

                The cluster is up. Try:
                  kubectl --kubeconfig {store.KubeconfigPath} get nodes,podnetworks,nodesubnets
                  kubectl --kubeconfig {store.KubeconfigPath} get pods -A -o wide
                  trellis-local node add node{options.Nodes + 1}      trellis-local status --ports      trellis-local node reboot node1
                Ctrl-C or `trellis-local down` stops it and removes everything.
                """);
            try { await Task.Delay(Timeout.Infinite, stop); } catch (OperationCanceledException) { }
        }
    }
    catch (Exception e)
    {
        Console.Error.WriteLine(e switch
        {
            OperationCanceledException => "trellis-local: interrupted",
            LocalClusterException => $"trellis-local: {e.Message}",
            _ => $"trellis-local: {e.GetType().Name}: {e.Message}\n{e.StackTrace}",
        });
        exitCode = 1;
    }
    finally
    {
        human.WriteLine("tearing down ...");
        await cluster.DisposeAsync();
        Teardown.Run(store, options.Prefix);
    }
    return exitCode;
}

static async Task<int> StatusAsync(StatusOptions options, CancellationToken ct)
{
    Func<IReadOnlyList<ServedPort>, IEnumerable<ServedPort>>? ports = null;
    if (options.Ports)
        ports = declared => declared.Where(d => (options.Port is null || d.Port == options.Port) && (options.Protocol is null || d.Protocol == options.Protocol));
    var report = await ClusterReport.BuildAsync(new StateStore(options.StateDirectory), ct, ports);
    if (options.Json) Console.WriteLine(report.Json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    else Console.Write(report.Text);
    return report.Complete ? 0 : 1;
}

// A node's agent endpoint, read inside the node: the probes' answers as comments, then /metrics as Prometheus scrapes it.
static async Task<int> MetricsAsync(MetricsOptions options, CancellationToken ct)
{
    var store = new StateStore(options.StateDirectory);
    if (!store.Exists) throw new LocalClusterException($"no local cluster is up (no state in {store.Directory})");
    var node = (store.Load()?.Nodes ?? []).FirstOrDefault(n => n.Name == options.Node)
        ?? throw new LocalClusterException($"the local cluster has no node {options.Node}");
    var path = Trellis.Netlink.NamedNetworkNamespace.PathOf(node.Namespace);
    var healthz = await AgentEndpointReader.GetAsync(path, options.Port, "/healthz", ct);
    var readyz = await AgentEndpointReader.GetAsync(path, options.Port, "/readyz", ct);
    var metrics = await AgentEndpointReader.GetAsync(path, options.Port, "/metrics", ct);
    Console.WriteLine($"# {node.Name} /healthz: {healthz.StatusCode} {healthz.Body.Trim()}");
    Console.WriteLine($"# {node.Name} /readyz: {readyz.StatusCode} {readyz.Body.Trim()}");
    Console.Write(metrics.Body);
    return healthz.StatusCode == 200 && readyz.StatusCode == 200 && metrics.StatusCode == 200 ? 0 : 1;
}

static async Task<int> ProbeAsync(ProbeOptions options, CancellationToken ct)
{
    var store = new StateStore(options.StateDirectory);
    if (!store.Exists) throw new LocalClusterException($"no local cluster is up (no state in {store.Directory})");
    var (from, to, port, protocol) = (options.From, options.To, options.Port, options.Protocol);
    var timeout = TimeSpan.FromSeconds(options.TimeoutSeconds);
    using var client = new k8s.Kubernetes(k8s.KubernetesClientConfiguration.BuildConfigFromConfigFile(store.KubeconfigPath));
    PodEndpoint source, target;
    try
    {
        source = await ClusterPods.GetAsync(client, from, ct);
        target = await ClusterPods.GetAsync(client, to, ct);
    }
    catch (ArgumentException e)
    {
        throw new LocalClusterException(e.Message);
    }
    // The nodes' NetworkPolicy drop counters before and after say which policy, if any, dropped the probe.
    var nodes = (store.Load()?.Nodes ?? []).Where(n => n.Name == source.Node || n.Name == target.Node).ToList();
    var before = nodes.ToDictionary(n => n.Name, n => PolicyDrops.Read(n.Namespace));
    var result = await PodProber.ProbeAsync(source, target, port, protocol, timeout, ct);
    var droppedBy = result.Connected ? [] : nodes.SelectMany(n => PolicyDrops.Rose(n.Name, before[n.Name], PolicyDrops.Read(n.Namespace))).ToList();
    if (options.Json)
        Console.WriteLine(new System.Text.Json.Nodes.JsonObject
        {
            ["from"] = source.Key, ["to"] = target.Key, ["address"] = target.Addresses[0].ToString(), ["port"] = port, ["protocol"] = protocol,
            ["outcome"] = result.Outcome.ToString(), ["connected"] = result.Connected, ["detail"] = result.Detail, ["milliseconds"] = (int)result.Elapsed.TotalMilliseconds,
            ["droppedBy"] = new System.Text.Json.Nodes.JsonArray(droppedBy.Select(d => (System.Text.Json.Nodes.JsonNode)d!).ToArray()),
        }.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    else
    {
        Console.WriteLine($"{source.Key} → {target.Key} {target.Addresses[0]}:{port}/{protocol}: {result}");
        foreach (var drop in droppedBy) Console.WriteLine($"  dropped by {drop}");
    }
    return result.Connected ? 0 : 1;
}

