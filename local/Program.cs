using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Trellis.Crds;
using Trellis.Local.Cluster;
using Trellis.Local.Commands;
using Trellis.Local.Connectivity;
using Trellis.Local.Kubelet;
using Trellis.Local.Namespaces;
using Trellis.Local.Output;
using Trellis.Local.Pods;
using Trellis.Local.Topology;

// trellis-local: all of Trellis on one machine, in network namespaces (see README).
if (args.Length > 0 && args[0] == NamespaceExec.Verb) return NamespaceExec.RunVerb(args[1..]);
if (args.Length > 0 && args[0] == KubeletCommand.Verb) return await KubeletCommand.RunAsync(args[1..]);

const string Usage = """
    usage: trellis-local <command> [flags]          (run as root)
      up    [--nodes 3] [--pods-per-node 2] [--routing Direct|VXLAN|Auto] [--topology l2|routed|mixed] [--network FILE]
            builds the cluster, prints it and the pod × pod matrix, and stays up until Ctrl-C or `down`
      run   (the flags of up) [--json]   up, the matrix, and down in one; exits 0 only when every pod reaches every other pod
      down                               removes every namespace, process and file a local cluster made (also after a crash)
      status [--ports [--port N] [--protocol P]]
                                         prints the PodNetworks, NodeSubnets, pods and the matrix of the running cluster;
                                         --ports adds a pod × pod matrix per declared port (or the one given)
      probe FROM TO [--port 80] [--protocol TCP|UDP|SCTP] [--timeout 1] [--json]
                                         connects from pod FROM to pod TO (namespace/name) and says whether and what TO answered
      node add NAME | node remove NAME   a node joins or leaves the running cluster (removal drains its pods)
      node reboot NAME                   a power cut and a boot: agent, kubelet and sandboxes vanish without CNI DEL, then start again
    common flags: --state-dir DIR (default /run/trellis-local), --prefix NAME (namespace names, default trellis),
                  --agent PATH, --cni-plugin PATH
    """;

if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.WriteLine(Usage);
    return args.Length == 0 ? 2 : 0;
}

try
{
    var command = new CommandLine(args[1..],
        valued: new HashSet<string> { "--nodes", "--pods-per-node", "--routing", "--topology", "--network", "--state-dir", "--agent", "--cni-plugin", "--prefix", "--port", "--protocol", "--timeout" },
        switches: new HashSet<string> { "--json", "--ports" });
    var options = BuildOptions(command);
    if (Environment.UserName != "root" && geteuid() != 0) throw new UsageException("trellis-local needs root: it creates network namespaces");
    var store = new StateStore(options.StateDirectory);
    using var stop = new CancellationTokenSource();
    using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
    using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });

    switch (args[0])
    {
        case "up": return await UpAsync(options, store, stay: true, stop.Token);
        case "run": return await UpAsync(options, store, stay: false, stop.Token);
        case "down":
            Teardown.Run(store, options.Prefix);
            return 0;
        case "status": return await StatusAsync(store, command, stop.Token);
        case "probe" when command.Positional is [var from, var to]: return await ProbeAsync(store, command, from, to, stop.Token);
        case "node" when command.Positional is ["reboot", var name]:
            await LocalCluster.RebootNodeAsync(store, name, options, new Progress(Console.Out), stop.Token);
            return 0;
        case "node" when command.Positional is ["add", var name]:
            await LocalCluster.AddNodeAsync(store, name, options, new Progress(Console.Out), stop.Token);
            return 0;
        case "node" when command.Positional is ["remove", var name]:
            await LocalCluster.RemoveNodeAsync(store, name, options, new Progress(Console.Out), stop.Token);
            return 0;
        default: throw new UsageException($"unknown command \"{string.Join(' ', args)}\"");
    }
}
catch (UsageException e)
{
    Console.Error.WriteLine($"trellis-local: {e.Message}\n\n{Usage}");
    return 2;
}
catch (LocalClusterException e)
{
    Console.Error.WriteLine($"trellis-local: {e.Message}");
    return 1;
}

static LocalClusterOptions BuildOptions(CommandLine command)
{
    var defaults = new LocalClusterOptions();
    var options = defaults with
    {
        Nodes = command.GetInt("--nodes", defaults.Nodes),
        PodsPerNode = command.GetInt("--pods-per-node", defaults.PodsPerNode),
        Routing = command.Get("--routing") is { } routing
            ? RoutingModes.All.FirstOrDefault(m => string.Equals(m, routing, StringComparison.OrdinalIgnoreCase)) ?? routing
            : defaults.Routing,
        Topology = command.Get("--topology") is { } topology
            ? Enum.TryParse<TopologyKind>(topology, ignoreCase: true, out var kind) ? kind : throw new UsageException($"--topology must be l2, routed or mixed, not \"{topology}\"")
            : defaults.Topology,
        NetworkFile = command.Get("--network"),
        StateDirectory = command.Get("--state-dir") ?? defaults.StateDirectory,
        Prefix = command.Get("--prefix") ?? defaults.Prefix,
        AgentPath = command.Get("--agent") ?? defaults.AgentPath,
        CniPluginPath = command.Get("--cni-plugin") ?? defaults.CniPluginPath,
        Json = command.Has("--json"),
    };
    return options;
}

static async Task<int> UpAsync(LocalClusterOptions options, StateStore store, bool stay, CancellationToken stop)
{
    var problems = options.Problems().ToList();
    if (problems.Count > 0) throw new UsageException(string.Join("\n", problems));
    // With --json the only thing on stdout is the result; progress goes to stderr.
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

static async Task<int> StatusAsync(StateStore store, CommandLine command, CancellationToken ct)
{
    Func<IReadOnlyList<ServedPort>, IEnumerable<ServedPort>>? ports = null;
    if (command.Has("--ports"))
    {
        var port = command.Get("--port") is null ? (int?)null : command.GetInt("--port", 0);
        var protocol = command.Get("--protocol") is { } p ? ProtocolOf(p) : null;
        ports = declared => declared.Where(d => (port is null || d.Port == port) && (protocol is null || d.Protocol == protocol));
    }
    else if (command.Has("--port") || command.Has("--protocol")) throw new UsageException("--port and --protocol choose the matrix of status --ports");
    var report = await ClusterReport.BuildAsync(store, ct, ports);
    if (command.Has("--json")) Console.WriteLine(report.Json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    else Console.Write(report.Text);
    return report.Complete ? 0 : 1;
}

static async Task<int> ProbeAsync(StateStore store, CommandLine command, string from, string to, CancellationToken ct)
{
    if (!store.Exists) throw new LocalClusterException($"no local cluster is up (no state in {store.Directory})");
    var port = command.GetInt("--port", 80);
    if (port is < 1 or > 65535) throw new UsageException($"--port must be 1..65535, not {port}");
    var protocol = ProtocolOf(command.Get("--protocol") ?? "TCP");
    var timeout = TimeSpan.FromSeconds(command.Get("--timeout") is { } t
        ? double.TryParse(t, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var seconds) && seconds > 0 ? seconds : throw new UsageException($"--timeout must be a number of seconds, not \"{t}\"")
        : PodProbe.DefaultTimeout.TotalSeconds);
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
    var result = await PodProber.ProbeAsync(source, target, port, protocol, timeout, ct);
    if (command.Has("--json"))
        Console.WriteLine(new System.Text.Json.Nodes.JsonObject
        {
            ["from"] = source.Key, ["to"] = target.Key, ["address"] = target.Addresses[0].ToString(), ["port"] = port, ["protocol"] = protocol,
            ["outcome"] = result.Outcome.ToString(), ["connected"] = result.Connected, ["detail"] = result.Detail, ["milliseconds"] = (int)result.Elapsed.TotalMilliseconds,
        }.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    else Console.WriteLine($"{source.Key} → {target.Key} {target.Addresses[0]}:{port}/{protocol}: {result}");
    return result.Connected ? 0 : 1;
}

static string ProtocolOf(string text) =>
    text.ToUpperInvariant() is "TCP" or "UDP" or "SCTP" ? text.ToUpperInvariant() : throw new UsageException($"--protocol must be TCP, UDP or SCTP, not \"{text}\"");

[DllImport("libc")]
static extern uint geteuid();
