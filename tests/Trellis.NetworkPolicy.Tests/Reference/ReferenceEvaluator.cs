using System.Net;
using System.Numerics;
using k8s.Models;

namespace Trellis.NetworkPolicy.Tests.Reference;

/// <summary>
/// One end of a connection: a pod (with the address the connection uses) or an address outside
/// the pod network. <see cref="Node"/> is set for a node's own address, so "from the pod's node" can be told.
/// </summary>
public sealed record Endpoint(V1Pod? Pod, IPAddress Address, string? Node = null)
{
    public static Endpoint OfPod(V1Pod pod, IPAddress address) => new(pod, address);

    public static Endpoint External(IPAddress address) => new(null, address);

    public static Endpoint OfNode(string node, IPAddress address) => new(null, address, node);

    public override string ToString() => Pod is null ? (Node is null ? Address.ToString() : $"node {Node}") : $"{Pod.Metadata.NamespaceProperty}/{Pod.Metadata.Name}";
}

/// <summary>
/// A second, deliberately simple reading of the NetworkPolicy API documentation, independent of
/// the compiler: plain loops over the API objects, nothing precomputed, nothing shared with the
/// product code. It answers whether one connection is allowed.
///
/// The sentences it implements (kubernetes.io, Network Policies, and the API reference):
/// - A pod is isolated for egress (ingress) if any policy in its namespace selects it and has
///   Egress (Ingress) in policyTypes; without policyTypes, Ingress is always set and Egress when
///   the policy has egress rules.
/// - An isolated pod allows only what some rule of some policy applying to it allows; replies pass.
/// - A connection needs the source's egress and the destination's ingress to allow it.
/// - Connections into a pod from its own node are always allowed; a pod cannot block itself.
/// - A rule matches when one of its peers matches (no peers: every peer) and one of its ports
///   matches (no ports: every port).
/// - podSelector alone: pods of the policy's namespace; namespaceSelector alone: all pods of the
///   matching namespaces; both: pods matching both; ipBlock: addresses in cidr and in no except.
/// - A port matches its protocol (default TCP) and, if given, its number, the range port..endPort,
///   or a containerPort of that name and protocol declared by the destination pod.
/// </summary>
public static class ReferenceEvaluator
{
    public static bool Allows(IReadOnlyList<V1NetworkPolicy> policies, IReadOnlyList<V1Namespace> namespaces,
        Endpoint from, Endpoint to, int port, string protocol)
    {
        if (from.Pod is not null && to.Pod is not null && SamePod(from.Pod, to.Pod)) return true;
        return EgressAllows(policies, namespaces, from, to, port, protocol)
            && IngressAllows(policies, namespaces, from, to, port, protocol);
    }

    private static bool EgressAllows(IReadOnlyList<V1NetworkPolicy> policies, IReadOnlyList<V1Namespace> namespaces,
        Endpoint from, Endpoint to, int port, string protocol)
    {
        if (from.Pod is null) return true;
        bool isolated = false;
        foreach (var policy in policies)
        {
            if (policy.Metadata.NamespaceProperty != from.Pod.Metadata.NamespaceProperty) continue;
            if (!SelectorMatches(policy.Spec.PodSelector, from.Pod.Metadata.Labels)) continue;
            if (!HasType(policy, "Egress")) continue;
            isolated = true;
            foreach (var rule in policy.Spec.Egress ?? [])
                if (PeersMatch(rule.To, policy.Metadata.NamespaceProperty, to, namespaces) && PortsMatch(rule.Ports, to, port, protocol))
                    return true;
        }
        return !isolated;
    }

    private static bool IngressAllows(IReadOnlyList<V1NetworkPolicy> policies, IReadOnlyList<V1Namespace> namespaces,
        Endpoint from, Endpoint to, int port, string protocol)
    {
        if (to.Pod is null) return true;
        if (from.Node is not null && from.Node == to.Pod.Spec.NodeName) return true;
        bool isolated = false;
        foreach (var policy in policies)
        {
            if (policy.Metadata.NamespaceProperty != to.Pod.Metadata.NamespaceProperty) continue;
            if (!SelectorMatches(policy.Spec.PodSelector, to.Pod.Metadata.Labels)) continue;
            if (!HasType(policy, "Ingress")) continue;
            isolated = true;
            foreach (var rule in policy.Spec.Ingress ?? [])
                if (PeersMatch(rule.FromProperty, policy.Metadata.NamespaceProperty, from, namespaces) && PortsMatch(rule.Ports, to, port, protocol))
                    return true;
        }
        return !isolated;
    }

    private static bool HasType(V1NetworkPolicy policy, string type)
    {
        var types = policy.Spec.PolicyTypes;
        if (types is null || types.Count == 0)
            return type == "Ingress" || (policy.Spec.Egress is not null && policy.Spec.Egress.Count > 0);
        return types.Contains(type);
    }

    private static bool PeersMatch(IList<V1NetworkPolicyPeer>? peers, string policyNamespace, Endpoint peer, IReadOnlyList<V1Namespace> namespaces)
    {
        if (peers is null || peers.Count == 0) return true;
        foreach (var p in peers)
        {
            if (p.IpBlock is not null)
            {
                if (InCidr(peer.Address, p.IpBlock.Cidr) && !(p.IpBlock.Except ?? []).Any(e => InCidr(peer.Address, e)))
                    return true;
                continue;
            }
            if (peer.Pod is null) continue;
            var peerNamespace = peer.Pod.Metadata.NamespaceProperty;
            bool namespaceOk = p.NamespaceSelector is null
                ? peerNamespace == policyNamespace
                : SelectorMatches(p.NamespaceSelector, NamespaceLabels(peerNamespace, namespaces));
            bool podOk = p.PodSelector is null || SelectorMatches(p.PodSelector, peer.Pod.Metadata.Labels);
            if (namespaceOk && podOk) return true;
        }
        return false;
    }

    private static bool PortsMatch(IList<V1NetworkPolicyPort>? ports, Endpoint destination, int port, string protocol)
    {
        if (ports is null || ports.Count == 0) return true;
        foreach (var p in ports)
        {
            if ((p.Protocol ?? "TCP") != protocol) continue;
            if (p.Port is null) return true;
            if (int.TryParse(p.Port.Value, out int number))
            {
                if (port >= number && port <= (p.EndPort ?? number)) return true;
                continue;
            }
            if (destination.Pod is null) continue;
            foreach (var container in destination.Pod.Spec.Containers)
                foreach (var declared in container.Ports ?? [])
                    if (declared.Name == p.Port.Value && (declared.Protocol ?? "TCP") == protocol && declared.ContainerPort == port)
                        return true;
        }
        return false;
    }

    private static bool SelectorMatches(V1LabelSelector? selector, IDictionary<string, string>? labels)
    {
        labels ??= new Dictionary<string, string>();
        if (selector is null) return true;
        foreach (var (key, value) in selector.MatchLabels ?? new Dictionary<string, string>())
            if (!labels.TryGetValue(key, out var actual) || actual != value) return false;
        foreach (var expression in selector.MatchExpressions ?? [])
        {
            bool has = labels.TryGetValue(expression.Key, out var actual);
            var values = expression.Values ?? [];
            bool ok = expression.OperatorProperty switch
            {
                "In" => has && values.Contains(actual!),
                "NotIn" => !has || !values.Contains(actual!),
                "Exists" => has,
                "DoesNotExist" => !has,
                _ => throw new ArgumentException($"operator {expression.OperatorProperty}"),
            };
            if (!ok) return false;
        }
        return true;
    }

    private static IDictionary<string, string> NamespaceLabels(string name, IReadOnlyList<V1Namespace> namespaces)
    {
        var labels = new Dictionary<string, string>(namespaces.FirstOrDefault(n => n.Metadata.Name == name)?.Metadata.Labels ?? new Dictionary<string, string>())
        {
            ["kubernetes.io/metadata.name"] = name,
        };
        return labels;
    }

    /// <summary>Go's net.ParseCIDR masks host bits; so does this, by comparing the leading bits only.</summary>
    private static bool InCidr(IPAddress address, string cidr)
    {
        var parts = cidr.Split('/');
        var network = IPAddress.Parse(parts[0]);
        int bits = int.Parse(parts[1]);
        if (network.AddressFamily != address.AddressFamily) return false;
        var a = new BigInteger(address.GetAddressBytes(), isUnsigned: true, isBigEndian: true);
        var n = new BigInteger(network.GetAddressBytes(), isUnsigned: true, isBigEndian: true);
        int width = address.GetAddressBytes().Length * 8;
        return a >> (width - bits) == n >> (width - bits);
    }

    private static bool SamePod(V1Pod a, V1Pod b) =>
        a.Metadata.NamespaceProperty == b.Metadata.NamespaceProperty && a.Metadata.Name == b.Metadata.Name;
}
