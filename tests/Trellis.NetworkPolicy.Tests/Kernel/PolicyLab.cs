using System.Net;
using System.Net.Sockets;
using Trellis.NetworkPolicy.Applying;
using Trellis.NetworkPolicy.Compiling;
using Trellis.NetworkPolicy.Facts;
using Trellis.NetworkPolicy.Ruleset;
using Trellis.NetworkPolicy.Tests.Model;
using Trellis.Testing;

namespace Trellis.NetworkPolicy.Tests.Kernel;

/// <summary>One probe of a truth table: from a pod (or another namespace) to an address.</summary>
public sealed record ProbeCell(string From, string To, IPAddress Destination, int Port, TransportProtocol Protocol);

/// <summary>
/// A small cluster in network namespaces, wired as Trellis wires a node: each node namespace has
/// the bridge trellis0 holding its blocks' gateways (10.244.N.1/24, fd00:10:244:N::1/64), each pod
/// a veth into it, and the nodes route each other's blocks over an underlay segment
/// (192.168.1.0/24, fd00:1::/64), where one more namespace plays a host outside the cluster.
/// Bridged traffic is handed to the inet hooks (bridge-nf-call-iptables and -ip6tables set in
/// each node namespace, as the agent sets them). Every pod serves TCP and UDP on 80 and 81.
/// </summary>
public sealed class PolicyLab : IAsyncDisposable
{
    public static readonly IPAddress ExternalV4 = IPAddress.Parse("192.168.1.100");
    public static readonly IPAddress ExternalV6 = IPAddress.Parse("fd00:1::100");

    private readonly TestTopology _topology = new();
    private readonly PodSockets _servers = new();
    private readonly Dictionary<string, PolicyTableWriter> _writers = new(StringComparer.Ordinal);

    public Dictionary<string, NetworkNamespace> Nodes { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, NetworkNamespace> Pods { get; } = new(StringComparer.Ordinal);
    public NetworkNamespace External { get; private set; } = null!;
    public ClusterState State { get; }

    private PolicyLab(ClusterState state) => State = state;

    public static int NodeNumber(string node) => int.Parse(node.AsSpan(4), System.Globalization.CultureInfo.InvariantCulture);

    public static IPAddress NodeAddress(string node, AddressFamily family) =>
        IPAddress.Parse(family == AddressFamily.InterNetwork ? $"192.168.1.{10 + NodeNumber(node)}" : $"fd00:1::{10 + NodeNumber(node)}");

    /// <summary>Builds the namespaces for <paramref name="state"/>'s pods, whose addresses must come from <see cref="UpstreamModel.LabAddresses"/>-style blocks.</summary>
    public static PolicyLab Create(ClusterState state)
    {
        var lab = new PolicyLab(state);
        try
        {
            lab.Build();
            return lab;
        }
        catch
        {
            lab.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    private void Build()
    {
        var underlay = _topology.AddSegment("np-underlay");
        var nodes = State.Nodes.ToList();
        foreach (var name in nodes)
        {
            int n = NodeNumber(name);
            var node = _topology.AddNode($"np-{name}", underlay, $"192.168.1.{10 + n}/24");
            node.Exec("ip", "-6", "addr", "add", $"fd00:1::{10 + n}/64", "dev", "eth0", "nodad");
            foreach (var sysctl in new[] { "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1",
                         "net.bridge.bridge-nf-call-iptables=1", "net.bridge.bridge-nf-call-ip6tables=1" })
                node.Exec("sysctl", "-qw", sysctl);
            node.Exec("ip", "link", "add", "trellis0", "type", "bridge");
            node.Exec("ip", "addr", "add", $"10.244.{n}.1/24", "dev", "trellis0");
            node.Exec("ip", "-6", "addr", "add", $"fd00:10:244:{n}::1/64", "dev", "trellis0", "nodad");
            node.Exec("ip", "link", "set", "trellis0", "up");
            Nodes[name] = node;
            _writers[name] = new PolicyTableWriter(NftIn(name));
        }
        foreach (var name in nodes)
            foreach (var peer in nodes.Where(p => p != name))
            {
                int m = NodeNumber(peer);
                Nodes[name].Exec("ip", "route", "add", $"10.244.{m}.0/24", "via", $"192.168.1.{10 + m}");
                Nodes[name].Exec("ip", "-6", "route", "add", $"fd00:10:244:{m}::/64", "via", $"fd00:1::{10 + m}");
            }

        External = _topology.AddNode("np-external", underlay, $"{ExternalV4}/24");
        External.Exec("ip", "-6", "addr", "add", $"{ExternalV6}/64", "dev", "eth0", "nodad");
        foreach (var name in nodes)
        {
            int n = NodeNumber(name);
            External.Exec("ip", "route", "add", $"10.244.{n}.0/24", "via", $"192.168.1.{10 + n}");
            External.Exec("ip", "-6", "route", "add", $"fd00:10:244:{n}::/64", "via", $"fd00:1::{10 + n}");
        }

        int veth = 0;
        foreach (var pod in State.Pods)
        {
            int n = NodeNumber(pod.Node);
            var ns = _topology.Namespace($"np-{pod.Namespace}-{pod.Name}");
            var node = Nodes[pod.Node];
            var leg = $"vp{++veth}";
            node.Exec("ip", "link", "add", leg, "type", "veth", "peer", "name", "eth0", "netns", ns.Name);
            node.Exec("ip", "link", "set", leg, "master", "trellis0");
            node.Exec("ip", "link", "set", leg, "up");
            ns.Exec("ip", "addr", "add", $"{pod.Address(AddressFamily.InterNetwork)}/24", "dev", "eth0");
            ns.Exec("ip", "-6", "addr", "add", $"{pod.Address(AddressFamily.InterNetworkV6)}/64", "dev", "eth0", "nodad");
            ns.Exec("ip", "link", "set", "eth0", "up");
            ns.Exec("ip", "route", "add", "default", "via", $"10.244.{n}.1");
            ns.Exec("ip", "-6", "route", "add", "default", "via", $"fd00:10:244:{n}::1");
            Pods[pod.Key] = ns;
            _servers.Serve(ns.Path, pod.Key, UpstreamModel.ServedPorts);
        }
        _servers.Serve(External.Path, "external", UpstreamModel.ServedPorts);
    }

    /// <summary>What <see cref="Enforce"/> did on one node.</summary>
    public sealed record Enforcement(CompiledPolicies Compiled, TableWrite Write);

    /// <summary>
    /// Compiles the state for every node and writes it with each node's <see cref="PolicyTableWriter"/>, as the agent does;
    /// then, unless told to keep them, forgets the flows every node tracks, so that the next probes are new connections.
    /// </summary>
    /// <remarks>
    /// The rules pass packets of established flows before any policy, so a UDP flow a policy allowed keeps flowing after the
    /// policy changes until conntrack forgets it (120 s after its last packet). A truth table describes new connections: a probe
    /// whose kernel-chosen source port repeats an earlier probe of the same pair would otherwise be answered through the old
    /// flow (seed 79190 of the random tests once was).
    /// </remarks>
    public IReadOnlyDictionary<string, Enforcement> Enforce(bool keepFlows = false)
    {
        var done = new Dictionary<string, Enforcement>(StringComparer.Ordinal);
        foreach (var node in State.Nodes)
        {
            var compiled = State.Compile(node);
            done[node] = new Enforcement(compiled, _writers[node].Write(compiled.Table));
        }
        if (!keepFlows) ForgetFlows();
        return done;
    }

    /// <summary>Empties every node's connection tracking table, both families, with conntrack(8).</summary>
    public void ForgetFlows()
    {
        foreach (var node in Nodes.Values)
            foreach (var family in new[] { "ipv4", "ipv6" })
                node.Exec("conntrack", "--flush", "--family", family);
    }

    /// <summary>Makes every node's writer replace its table next time (after a test wrote tables with writers of its own).</summary>
    public void Forget()
    {
        foreach (var writer in _writers.Values) writer.Forget();
    }

    /// <summary>nft inside a node's namespace.</summary>
    public NftCommand NftIn(string node) => new(["ip", "netns", "exec", Nodes[node].Name, "nft"]);

    public IReadOnlyDictionary<string, CounterValue> ReadCounters(string node) => _writers[node].ReadCounters(ObjectNames.Table);

    /// <summary>Probes every cell at once; a probe that gets no answer within <paramref name="timeout"/> counts as denied.</summary>
    public async Task<IReadOnlyDictionary<ProbeCell, ProbeResult>> ProbeAsync(IReadOnlyList<ProbeCell> cells, TimeSpan timeout)
    {
        var sockets = new Dictionary<ProbeCell, Socket>();
        foreach (var group in cells.GroupBy(c => (c.From, c.Destination.AddressFamily, c.Protocol)))
        {
            var made = PodSockets.ProbeSockets(NamespaceOf(group.Key.From).Path, group.Key.AddressFamily, group.Key.Protocol, group.Count());
            foreach (var (cell, socket) in group.Zip(made)) sockets[cell] = socket;
        }
        var probes = sockets.Select(async s => (s.Key, await PodSockets.ProbeAsync(s.Value, s.Key.Destination, s.Key.Port, timeout))).ToList();
        return (await Task.WhenAll(probes)).ToDictionary(p => p.Key, p => p.Item2);
    }

    /// <summary>A pod's namespace by "ns/name", a node's by its name, or "external".</summary>
    public NetworkNamespace NamespaceOf(string who) =>
        Pods.TryGetValue(who, out var pod) ? pod : Nodes.TryGetValue(who, out var node) ? node : who == "external" ? External : throw new ArgumentException(who);

    public async ValueTask DisposeAsync()
    {
        await _servers.DisposeAsync();
        _topology.Dispose();
    }
}
