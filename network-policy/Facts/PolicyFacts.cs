using Trellis.Addressing;

namespace Trellis.NetworkPolicy.Facts;

/// <summary>One entry of a rule's from/to list.</summary>
public abstract record PolicyPeer;

/// <summary>
/// Pods chosen by label: <see cref="Namespaces"/> null means the policy's own namespace, and
/// <see cref="Pods"/> null means every pod of the chosen namespaces. Both set means both must match.
/// </summary>
public sealed record SelectorPeer(PolicySelector? Namespaces, PolicySelector? Pods) : PolicyPeer;

/// <summary>Addresses in <see cref="Cidr"/> but in none of <see cref="Except"/>.</summary>
public sealed record BlockPeer(Cidr Cidr, IReadOnlyList<Cidr> Except) : PolicyPeer;

/// <summary>
/// A port entry: a numbered range (<see cref="First"/>..<see cref="Last"/>, the whole space when only
/// the protocol was given) or, when <see cref="Name"/> is set, a containerPort name resolved on
/// each destination pod.
/// </summary>
public sealed record PolicyPort(TransportProtocol Protocol, int First, int Last, string? Name)
{
    public const int Lowest = 0;
    public const int Highest = 65_535;

    public static PolicyPort AllOf(TransportProtocol protocol) => new(protocol, Lowest, Highest, null);

    public static PolicyPort Numbered(TransportProtocol protocol, int first, int last) => new(protocol, first, last, null);

    public static PolicyPort Named(TransportProtocol protocol, string name) => new(protocol, 0, 0, name);

    public bool IsNamed => Name is not null;
}

/// <summary>
/// One ingress or egress rule. A null list matches everything: no from/to means every peer, no
/// ports means every port of every protocol (the API treats an empty list the same way).
/// </summary>
public sealed record PolicyRule(IReadOnlyList<PolicyPeer>? Peers, IReadOnlyList<PolicyPort>? Ports);

/// <summary>A NetworkPolicy checked and parsed once, its policyTypes defaulted as the API does.</summary>
public sealed record PolicyFacts(
    string Namespace,
    string Name,
    PolicySelector PodSelector,
    bool AppliesToIngress,
    bool AppliesToEgress,
    IReadOnlyList<PolicyRule> IngressRules,
    IReadOnlyList<PolicyRule> EgressRules)
{
    public string Key => $"{Namespace}/{Name}";
}
