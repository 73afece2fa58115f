using System.Net;
using System.Net.Sockets;
using k8s.Models;
using Trellis.NetworkPolicy.Compiling;
using Trellis.NetworkPolicy.Facts;
using Trellis.NetworkPolicy.Tests.Reference;

namespace Trellis.NetworkPolicy.Tests.Model;

/// <summary>A pod of a test world: where it runs, its addresses, labels and declared ports.</summary>
public sealed class ModelPod(string ns, string name, string node, IReadOnlyList<IPAddress> addresses, IReadOnlyList<V1ContainerPort> ports)
{
    public string Namespace { get; } = ns;
    public string Name { get; } = name;
    public string Node { get; } = node;
    public IReadOnlyList<IPAddress> Addresses { get; } = addresses;
    public IReadOnlyList<V1ContainerPort> Ports { get; } = ports;
    public Dictionary<string, string> Labels { get; } = new(StringComparer.Ordinal);

    public string Key => $"{Namespace}/{Name}";

    public IPAddress Address(AddressFamily family) => Addresses.First(a => a.AddressFamily == family);

    public V1Pod ToObject() => PolicyObjects.Pod(Namespace, Name, Labels, Node, Addresses.Select(a => a.ToString()), Ports);

    public override string ToString() => Key;
}

/// <summary>
/// What the API would hold in a test: namespaces with labels, pods, policies. Tests change it
/// step by step and hand the same objects to the compiler and to the reference evaluator.
/// </summary>
public sealed class ClusterState
{
    private readonly Dictionary<string, V1NetworkPolicy> _policies = new(StringComparer.Ordinal);

    public Dictionary<string, Dictionary<string, string>> NamespaceLabels { get; } = new(StringComparer.Ordinal);
    public List<ModelPod> Pods { get; } = [];

    public IReadOnlyList<V1NetworkPolicy> Policies => _policies.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Value).ToList();

    public ModelPod Pod(string key) => Pods.Single(p => p.Key == key);

    /// <summary>Creates the policy or replaces the one with the same namespace and name.</summary>
    public void Apply(V1NetworkPolicy policy) => _policies[$"{policy.Metadata.NamespaceProperty}/{policy.Metadata.Name}"] = policy;

    public void Delete(string ns, string name) => _policies.Remove($"{ns}/{name}");

    public void DeleteAllPolicies() => _policies.Clear();

    public IReadOnlyList<V1Namespace> NamespaceObjects() =>
        NamespaceLabels.Select(n => PolicyObjects.Namespace(n.Key, n.Value)).ToList();

    public IReadOnlyList<V1Pod> PodObjects() => Pods.Select(p => p.ToObject()).ToList();

    public PolicyInputs Inputs() => PolicyInputs.Parse(Policies, NamespaceObjects(), PodObjects());

    public CompiledPolicies Compile(string node) => PolicyCompiler.Compile(Inputs(), node);

    public IEnumerable<string> Nodes => Pods.Select(p => p.Node).Distinct().Order(StringComparer.Ordinal);

    /// <summary>The reference evaluator's answer for one connection between two pods.</summary>
    public bool Expect(ModelPod from, ModelPod to, AddressFamily family, int port, TransportProtocol protocol)
    {
        var objects = PodObjects();
        V1Pod Object(ModelPod pod) => objects.Single(o => o.Metadata.NamespaceProperty == pod.Namespace && o.Metadata.Name == pod.Name);
        return ReferenceEvaluator.Allows(Policies, NamespaceObjects(),
            Endpoint.OfPod(Object(from), from.Address(family)), Endpoint.OfPod(Object(to), to.Address(family)), port, protocol.ApiName());
    }

    public bool Expect(Endpoint from, Endpoint to, int port, TransportProtocol protocol) =>
        ReferenceEvaluator.Allows(Policies, NamespaceObjects(), from, to, port, protocol.ApiName());
}
