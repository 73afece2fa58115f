using k8s.Models;

namespace Trellis.NetworkPolicy.Tests.Model;

/// <summary>Short builders for the API objects the tests feed the compiler and the reference evaluator.</summary>
public static class PolicyObjects
{
    public static V1Namespace Namespace(string name, IDictionary<string, string>? labels = null) => new()
    {
        ApiVersion = "v1",
        Kind = "Namespace",
        Metadata = new V1ObjectMeta { Name = name, Labels = labels is null ? null : new Dictionary<string, string>(labels) },
    };

    public static V1ContainerPort Port(int number, string protocol, string? name = null) =>
        new() { ContainerPort = number, Protocol = protocol, Name = name };

    public static V1Pod Pod(string ns, string name, IDictionary<string, string> labels, string node, IEnumerable<string> addresses, IEnumerable<V1ContainerPort>? ports = null)
    {
        var ips = addresses.ToList();
        return new V1Pod
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, Labels = new Dictionary<string, string>(labels) },
            Spec = new V1PodSpec
            {
                NodeName = node,
                Containers = [new V1Container { Name = "serve", Image = "trellis/serve", Ports = ports?.ToList() }],
            },
            Status = new V1PodStatus
            {
                Phase = "Running",
                PodIP = ips.FirstOrDefault(),
                PodIPs = ips.Select(ip => new V1PodIP { Ip = ip }).ToList(),
            },
        };
    }

    public static V1LabelSelector Labels(params (string Key, string Value)[] pairs) =>
        new() { MatchLabels = pairs.ToDictionary(p => p.Key, p => p.Value) };

    public static V1LabelSelector Expression(string key, string op, params string[] values) =>
        new() { MatchExpressions = [new V1LabelSelectorRequirement { Key = key, OperatorProperty = op, Values = values.Length == 0 ? null : values.ToList() }] };

    /// <summary>The empty selector, which selects everything.</summary>
    public static readonly V1LabelSelector Empty = new();

    public static V1NetworkPolicyPeer Pods(V1LabelSelector selector) => new() { PodSelector = selector };

    public static V1NetworkPolicyPeer Namespaces(V1LabelSelector selector) => new() { NamespaceSelector = selector };

    public static V1NetworkPolicyPeer PodsIn(V1LabelSelector namespaces, V1LabelSelector pods) => new() { NamespaceSelector = namespaces, PodSelector = pods };

    public static V1NetworkPolicyPeer Block(string cidr, params string[] except) =>
        new() { IpBlock = new V1IPBlock { Cidr = cidr, Except = except.Length == 0 ? null : except.ToList() } };

    public static V1NetworkPolicyPort NumberedPort(int port, string? protocol = null, int? endPort = null) =>
        new() { Port = port, Protocol = protocol, EndPort = endPort };

    public static V1NetworkPolicyPort NamedPort(string name, string? protocol = null) =>
        new() { Port = name, Protocol = protocol };

    public static V1NetworkPolicyPort ProtocolOnly(string protocol) => new() { Protocol = protocol };

    public static V1NetworkPolicyIngressRule From(IEnumerable<V1NetworkPolicyPeer>? peers = null, IEnumerable<V1NetworkPolicyPort>? ports = null) =>
        new() { FromProperty = peers?.ToList(), Ports = ports?.ToList() };

    public static V1NetworkPolicyEgressRule To(IEnumerable<V1NetworkPolicyPeer>? peers = null, IEnumerable<V1NetworkPolicyPort>? ports = null) =>
        new() { To = peers?.ToList(), Ports = ports?.ToList() };

    /// <summary>
    /// A policy as the upstream e2e helpers build them: ingress given (even empty) adds the Ingress
    /// type, egress given (even empty) adds Egress; with neither, policyTypes is left for the API to default.
    /// </summary>
    public static V1NetworkPolicy Policy(string ns, string name, V1LabelSelector podSelector,
        IEnumerable<V1NetworkPolicyIngressRule>? ingress = null, IEnumerable<V1NetworkPolicyEgressRule>? egress = null,
        IEnumerable<string>? policyTypes = null)
    {
        var types = policyTypes?.ToList();
        if (types is null && (ingress is not null || egress is not null))
        {
            types = [];
            if (ingress is not null) types.Add("Ingress");
            if (egress is not null) types.Add("Egress");
        }
        return new V1NetworkPolicy
        {
            ApiVersion = "networking.k8s.io/v1",
            Kind = "NetworkPolicy",
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns },
            Spec = new V1NetworkPolicySpec
            {
                PodSelector = podSelector,
                Ingress = ingress?.ToList(),
                Egress = egress?.ToList(),
                PolicyTypes = types,
            },
        };
    }
}
