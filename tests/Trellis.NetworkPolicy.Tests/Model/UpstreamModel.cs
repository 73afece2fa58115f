using System.Net;
using k8s.Models;

namespace Trellis.NetworkPolicy.Tests.Model;

/// <summary>
/// The upstream e2e model (kubernetes test/e2e/network/netpol): namespaces x, y, z labelled
/// ns=&lt;name&gt;; pods a, b, c in each labelled pod=&lt;name&gt;; every pod serves ports 80 and 81
/// over TCP, UDP and SCTP under the names serve-&lt;port&gt;-&lt;protocol&gt;. Here the nine pods are
/// spread over two nodes so that every case has same-node and cross-node pairs, and each has an
/// IPv4 and an IPv6 address from its node's blocks.
/// </summary>
public static class UpstreamModel
{
    public static readonly string[] NamespaceNames = ["x", "y", "z"];
    public static readonly string[] PodNames = ["a", "b", "c"];
    public static readonly int[] ServedPorts = [80, 81];
    public static readonly string[] Protocols = ["TCP", "UDP", "SCTP"];

    /// <summary>The nine pods, "x/a" to "z/c": every truth table has a row and a column for each.</summary>
    public static readonly IReadOnlyList<string> PodKeys = NamespaceNames.SelectMany(ns => PodNames.Select(pod => $"{ns}/{pod}")).ToArray();

    /// <summary>Which node each pod runs on: x/a and x/b apart, x/a and x/c together, and so on.</summary>
    public static readonly IReadOnlyDictionary<string, int> NodeOf = new Dictionary<string, int>
    {
        ["x/a"] = 1, ["x/b"] = 2, ["x/c"] = 1,
        ["y/a"] = 2, ["y/b"] = 1, ["y/c"] = 2,
        ["z/a"] = 1, ["z/b"] = 2, ["z/c"] = 1,
    };

    public static string NodeName(int node) => $"node{node}";

    public static IReadOnlyList<V1ContainerPort> ContainerPorts() =>
        ServedPorts.SelectMany(port => Protocols.Select(protocol =>
            PolicyObjects.Port(port, protocol, $"serve-{port}-{protocol.ToLowerInvariant()}"))).ToList();

    /// <summary>The model's state with the given addresses per pod ("x/a" → addresses), on the lab's two nodes.</summary>
    public static ClusterState Build(Func<string, IReadOnlyList<IPAddress>> addresses) => Build(addresses, key => NodeName(NodeOf[key]));

    /// <summary>The model's state with the given addresses and nodes per pod.</summary>
    public static ClusterState Build(Func<string, IReadOnlyList<IPAddress>> addresses, Func<string, string> nodeOf)
    {
        var state = new ClusterState();
        foreach (var ns in NamespaceNames)
            state.NamespaceLabels[ns] = new Dictionary<string, string> { ["ns"] = ns };
        foreach (var ns in NamespaceNames)
            foreach (var name in PodNames)
            {
                var key = $"{ns}/{name}";
                var pod = new ModelPod(ns, name, nodeOf(key), addresses(key), ContainerPorts());
                pod.Labels["pod"] = name;
                state.Pods.Add(pod);
            }
        return state;
    }

    /// <summary>Addresses as the kernel lab hands them out: 10.244.&lt;node&gt;.&lt;n&gt; and fd00:10:244:&lt;node&gt;::&lt;n&gt;.</summary>
    public static IReadOnlyList<IPAddress> LabAddresses(string key)
    {
        int node = NodeOf[key];
        int host = 10 + Array.IndexOf(NodeOf.Keys.ToArray(), key);
        return [IPAddress.Parse($"10.244.{node}.{host}"), IPAddress.Parse($"fd00:10:244:{node}::{host}")];
    }

    /// <summary>Resets labels and policies to the model's starting point.</summary>
    public static void Reset(ClusterState state)
    {
        state.DeleteAllPolicies();
        foreach (var ns in NamespaceNames)
            state.NamespaceLabels[ns] = new Dictionary<string, string> { ["ns"] = ns };
        foreach (var pod in state.Pods)
        {
            pod.Labels.Clear();
            pod.Labels["pod"] = pod.Name;
        }
    }
}
