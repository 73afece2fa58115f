using Trellis.ControllerRuntime.Clients;
using Trellis.Addressing;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Trellis.ApiServer;
using Trellis.Crds;
using Trellis.Netlink;
using Trellis.Testing;
using Xunit.Abstractions;

namespace Trellis.NodeAgent.Tests.EndToEnd;

/// <summary>
/// One end-to-end world: namespaces from <see cref="TestTopology"/>, the in-process API server
/// listening on 192.168.1.1:6443 inside the first underlay segment, agent processes inside node
/// namespaces, pods added by executing trellis-cni as a runtime does. Dispose kills every agent
/// and removes every namespace and file it made.
/// </summary>
public sealed class AgentWorld : IAsyncDisposable
{
    public const string ApiAddress = "192.168.1.1";
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(40);

    private readonly ITestOutputHelper _output;
    private readonly Dictionary<string, AgentProcess> _agents = new(StringComparer.Ordinal);
    private readonly Dictionary<string, NetworkNamespace> _nodes = new(StringComparer.Ordinal);
    private Socket? _listener;
    private KubeApiServer? _server;
    private int _pods;

    public TestTopology Topology { get; } = new();
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("trellis-agent-e2e").FullName;
    public IKubernetes Client { get; private set; } = null!;

    public AgentWorld(ITestOutputHelper output) => _output = output;

    /// <summary>Starts the API server inside <paramref name="apiSegment"/> (whose bridge must hold 192.168.1.1) and registers the CRDs.</summary>
    public async Task StartApiServerAsync(Segment apiSegment)
    {
        _listener = NetworkNamespaceRunner.Run(apiSegment.Namespace.Path, () =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.Parse(ApiAddress), 6443));
            socket.Listen(512);
            return socket;
        });
        var options = new KubeApiServerOptions();
        options.AdditionalListeners.Add(_listener);
        _server = await KubeApiServer.StartAsync(options);
        Client = new Kubernetes(new KubernetesClientConfiguration { Host = _server.BaseAddress.ToString(), AccessToken = _server.AdminToken, SslCaCerts = [_server.CertificateAuthority] });
        // The agents reach the server as seen from the node network.
        _server.WriteKubeconfig(Path.Combine(Directory, "kubeconfig"), new Uri($"https://{ApiAddress}:6443"));

        await TrellisCrds.RegisterAsync(Client);
    }

    /// <summary>Every authorization decision about a user outside system:masters, such as the agents' ServiceAccount.</summary>
    public IReadOnlyList<Trellis.ApiServer.Authorization.AuthorizationRecord> AuthorizationLog => _server!.AuthorizationLog;

    /// <summary>
    /// From now on agents start as ServiceAccount trellis-agent under exactly the RBAC of config/rbac (applied here),
    /// not as the admin.
    /// </summary>
    public async Task RunAgentsAsServiceAccountAsync()
    {
        await TrellisRbac.ApplyAsync(Client);
        var token = await TrellisRbac.TokenAsync(Client, "trellis-agent");
        _server!.WriteKubeconfig(Path.Combine(Directory, "kubeconfig"), new Uri($"https://{ApiAddress}:6443"), token, "trellis-agent");
    }

    public NetworkNamespace AddNode(string name, Segment segment, string address, string? gateway = null)
    {
        var node = Topology.AddNode(name, segment, address, gateway);
        _nodes[name] = node;
        return node;
    }

    public NetworkNamespace Node(string name) => _nodes[name];

    public string NodeDirectory(string node) => Path.Combine(Directory, node);

    public string ConflistPath(string node) => Path.Combine(NodeDirectory(node), "net.d", "10-trellis.conflist");

    public Task CreateSubnetAsync(string node, string address, string mode, params string[] cidrs) =>
        CreateSubnetAsync(node, [address], mode, cidrs);

    /// <summary>A NodeSubnet of <paramref name="network"/> with one node address per family; by default the network is "pods" and IPv6 blocks come from fd10::/64.</summary>
    public async Task CreateSubnetAsync(string node, string[] addresses, string mode, string[] cidrs, string network = "pods", string[]? networkCidrs = null)
    {
        var subnet = new NodeSubnet
        {
            Metadata = new V1ObjectMeta { Name = NodeSubnet.NameFor(network, node), Labels = new Dictionary<string, string> { [TrellisApi.NodeLabel] = node } },
            Spec = new NodeSubnetSpec
            {
                NodeName = node,
                PodNetwork = network,
                Cidrs = cidrs,
                Gateways = cidrs.Select(c => BlockGateway.Of(Cidr.Parse(c)).ToString()).ToList(),
                NodeAddresses = addresses,
                NetworkCidrs = networkCidrs ?? (cidrs.Any(c => c.Contains(':')) ? ["10.244.0.0/16", "fd10::/64"] : ["10.244.0.0/16"]),
                Routing = new RoutingSpec { Mode = mode },
                NatOutgoing = true,
            },
        };
        await new CustomResourceClient<NodeSubnet>(ApiClient.Over(Client)).CreateAsync(subnet);
    }

    public async Task<NodeSubnet> GetSubnetAsync(string node, string network = "pods")
    {
        return await new CustomResourceClient<NodeSubnet>(ApiClient.Over(Client)).GetAsync(NodeSubnet.NameFor(network, node));
    }

    /// <summary>The NodeSubnet's Programmed condition, once it has one.</summary>
    public async Task<V1Condition?> ProgrammedAsync(string node) =>
        (await GetSubnetAsync(node)).Status?.Conditions?.FirstOrDefault(c => c.Type == Conditions.Programmed);

    public Task PatchSubnetSpecAsync(string node, object spec) =>
        new CustomResourceClient<NodeSubnet>(ApiClient.Over(Client)).PatchAsync(new V1Patch(KubernetesJson.Serialize(new { spec }), V1Patch.PatchType.MergePatch),
            NodeSubnet.NameFor("pods", node));

    public Task<Corev1EventList> EventsAsync() => Client.CoreV1.ListNamespacedEventAsync("default");

    public Task DeleteSubnetAsync(string node) =>
        new CustomResourceClient<NodeSubnet>(ApiClient.Over(Client)).DeleteAsync(NodeSubnet.NameFor("pods", node));

    /// <param name="resyncPeriod">The agent's --resync-period: short so tests see a resync soon, long so every full pass it makes is a retry.</param>
    /// <param name="environment">Added to the agent's environment (for example a PATH that puts a witness before a tool).</param>
    public void StartAgent(string node, string resyncPeriod = "2s", IReadOnlyDictionary<string, string>? environment = null)
    {
        var directory = NodeDirectory(node);
        var info = new ProcessStartInfo("ip")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            "netns", "exec", _nodes[node].Name, RepositoryRoot.AgentBinary,
            "--kubeconfig", Path.Combine(Directory, "kubeconfig"),
            "--node-name", node,
            "--cni-conf-dir", Path.Combine(directory, "net.d"),
            "--cni-bin-dir", Path.Combine(directory, "bin"),
            "--state-dir", Path.Combine(directory, "state"),
            "--cni-plugin-source", RepositoryRoot.CniPluginPath,
            "--resync-period", resyncPeriod,
        })
            info.ArgumentList.Add(argument);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
            info.Environment[key] = value;
        var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start the agent for {node}");
        var log = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _agents[node] = new AgentProcess(process, log);
    }

    public string AgentLog(string node)
    {
        var log = _agents[node].Log;
        lock (log) return log.ToString();
    }

    public void KillAgent(string node)
    {
        if (!_agents.Remove(node, out var agent)) return;
        Stop(node, agent);
    }

    private void Stop(string node, AgentProcess agent)
    {
        if (!agent.Process.HasExited) agent.Process.Kill(entireProcessTree: true);
        agent.Process.WaitForExit(10_000);
        lock (agent.Log) _output.WriteLine($"--- agent {node} (exit {(agent.Process.HasExited ? agent.Process.ExitCode : -1)}) ---\n{agent.Log}");
        agent.Process.Dispose();
    }

    /// <summary>
    /// Executes trellis-cni ADD inside the node for a fresh pod namespace, as a runtime does; returns the pod and its IPv4 address.
    /// <paramref name="onlyBlock"/> replaces the conflist's ranges with that one block (the plugin otherwise draws from the first range).
    /// </summary>
    public (NetworkNamespace Pod, string Address) AddPod(string node, string? onlyBlock = null)
    {
        var pod = Topology.Namespace($"pod{Interlocked.Increment(ref _pods)}");
        var conflist = JsonNode.Parse(File.ReadAllText(ConflistPath(node)))!;
        var config = conflist["plugins"]![0]!.DeepClone().AsObject();
        config["cniVersion"] = conflist["cniVersion"]!.GetValue<string>();
        config["name"] = conflist["name"]!.GetValue<string>();
        if (onlyBlock is not null)
            config["ipam"]!["ranges"] = new JsonArray(new JsonArray(new JsonObject
            {
                ["subnet"] = onlyBlock,
                ["gateway"] = BlockGateway.Of(Cidr.Parse(onlyBlock)).ToString(),
            }));
        var environment = new Dictionary<string, string>
        {
            ["CNI_COMMAND"] = "ADD",
            ["CNI_CONTAINERID"] = $"ctr-{pod.Name}",
            ["CNI_NETNS"] = pod.Path,
            ["CNI_IFNAME"] = "eth0",
            ["CNI_PATH"] = $"{Path.GetDirectoryName(RepositoryRoot.CniPluginPath)}:/usr/lib/cni",
        };
        var result = Shell.Run("ip", ["netns", "exec", _nodes[node].Name, RepositoryRoot.CniPluginPath], config.ToJsonString(), environment);
        if (!result.Succeeded)
            throw new InvalidOperationException($"trellis-cni ADD for {pod.Name} on {node} failed ({result.ExitCode}): {result.StandardOutput} {result.StandardError}");
        var address = JsonNode.Parse(result.StandardOutput)!["ips"]![0]!["address"]!.GetValue<string>();
        return (pod, address.Split('/')[0]);
    }

    /// <summary>`ip route` lines of the node's main table (IPv4).</summary>
    public string Routes(string node) => _nodes[node].Exec("ip", "-4", "route", "show", "table", "main");

    /// <summary>`ip -6 route` lines of the node's main table.</summary>
    public string Routes6(string node) => _nodes[node].Exec("ip", "-6", "route", "show", "table", "main");

    /// <summary>The pod's global IPv6 address on eth0, as trellis-cni gave it.</summary>
    public static string GlobalIPv6Of(NetworkNamespace pod)
    {
        var line = pod.Exec("ip", "-6", "-o", "addr", "show", "dev", "eth0", "scope", "global");
        var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return words[Array.IndexOf(words, "inet6") + 1].Split('/')[0];
    }

    public async Task EventuallyAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Patience);
        while (true)
        {
            if (await condition()) return;
            if (_agents.FirstOrDefault(a => a.Value.Process.HasExited) is { Key: not null } dead)
                throw new InvalidOperationException($"the agent of {dead.Key} exited ({dead.Value.Process.ExitCode}) while waiting until {what}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out waiting until {what}");
            await Task.Delay(200);
        }
    }

    public Task EventuallyAsync(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        EventuallyAsync(() => Task.FromResult(condition()), what, timeout);

    public Task WaitProgrammedAsync(string node) =>
        EventuallyAsync(async () =>
        {
            var subnet = await GetSubnetAsync(node);
            return subnet.Status?.Conditions?.Any(c => c.Type == Conditions.Programmed && c.Status == "True" &&
                c.ObservedGeneration == subnet.Metadata.Generation) == true;
        }, $"NodeSubnet of {node} is Programmed");

    public async ValueTask DisposeAsync()
    {
        foreach (var (node, agent) in _agents) Stop(node, agent);
        _agents.Clear();
        if (_server is not null) await _server.DisposeAsync();
        _listener?.Dispose();
        Topology.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    private sealed record AgentProcess(Process Process, StringBuilder Log);
}
