using System.Net;
using k8s.Models;
using static Trellis.NetworkPolicy.Tests.Model.PolicyObjects;

namespace Trellis.NetworkPolicy.Tests.Model;

/// <summary>
/// What a case's policies may depend on: the pods' addresses. Upstream builds ipBlocks from a
/// pod's single address; in the dual-stack lab a block becomes one peer per family, so traffic
/// of either family meets the same policy upstream meant.
/// </summary>
public sealed record CaseAddresses(Func<string, IReadOnlyList<IPAddress>> AddressesOf)
{
    /// <summary>The pod's own addresses as /32 and /128 blocks.</summary>
    public V1NetworkPolicyPeer[] HostBlocks(string pod) => AddressesOf(pod).Select(a => Block(Host(a))).ToArray();

    /// <summary>For each family, the /4 holding the pod's address (upstream's makeLargeCIDRForIP) except the pod itself.</summary>
    public V1NetworkPolicyPeer[] LargeBlocksExceptHost(string pod) => AddressesOf(pod).Select(a => Block(Large(a), Host(a))).ToArray();

    private static string Host(IPAddress address) => $"{address}/{(address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128)}";

    private static string Large(IPAddress address)
    {
        var bytes = address.GetAddressBytes();
        bytes[0] &= 0xF0;
        for (int i = 1; i < bytes.Length; i++) bytes[i] = 0;
        return $"{new IPAddress(bytes)}/4";
    }
}

public abstract record CaseStep;

/// <summary>Creates the policy, or replaces the one of the same namespace and name.</summary>
public sealed record ApplyPolicy(Func<CaseAddresses, V1NetworkPolicy> Build) : CaseStep;

public sealed record DeleteAllPolicies : CaseStep;

public sealed record LabelNamespace(string Namespace, string Key, string Value) : CaseStep;

public sealed record LabelPod(string Pod, string Key, string Value) : CaseStep;

/// <summary>Probe every pair of the nine pods on one port and protocol and expect this table.</summary>
public sealed record Check(int Port, string Protocol, Func<Reachability, Reachability> Expected) : CaseStep;

public sealed record UpstreamCase(string Name, IReadOnlyList<CaseStep> Steps)
{
    public override string ToString() => Name;
}

/// <summary>
/// The cases of kubernetes' test/e2e/network/netpol/network_policy.go as data: each case's
/// policies, label changes and expected truth tables, transcribed from the upstream tests (the
/// facts; the code is ours). The last two cases are ours: upstream has no endPort case. Every
/// table covers all nine pods, as upstream's model wrote them before it trimmed each case to the
/// few pods it probes; here probing all of them costs little, as every cell is probed at once.
/// </summary>
public static class UpstreamCases
{
    private const string NameLabel = "kubernetes.io/metadata.name";

    private static Check Tcp(int port, Func<Reachability, Reachability> expected) => new(port, "TCP", expected);

    private static ApplyPolicy Apply(Func<CaseAddresses, V1NetworkPolicy> build) => new(build);

    private static ApplyPolicy Apply(V1NetworkPolicy policy) => new(_ => policy);

    private static readonly V1LabelSelector PodA = Labels(("pod", "a"));
    private static readonly V1LabelSelector PodB = Labels(("pod", "b"));

    public static readonly IReadOnlyList<UpstreamCase> All =
    [
        new("should support a 'default-deny-ingress' policy",
        [
            Apply(Policy("x", "deny-ingress", Empty, ingress: [])),
            Tcp(80, r => r.Expect("*", "x/*", false)),
        ]),
        new("should support a 'default-deny-all' policy",
        [
            Apply(Policy("x", "deny-all", Empty, ingress: [], egress: [])),
            Tcp(80, r => r.Expect("*", "x/*", false).Expect("x/*", "*", false)),
        ]),
        new("should enforce policy to allow traffic from pods within server namespace based on PodSelector",
        [
            Apply(Policy("x", "x-a-allows-x-b", PodA, ingress: [From([Pods(PodB)])])),
            Tcp(80, r => r.AllIngress("x/a", false).Expect("x/b", "x/a", true)),
        ]),
        new("should enforce policy to allow ingress traffic for a target",
        [
            Apply(Policy("x", "deny-all", Empty, ingress: [])),
            Apply(Policy("x", "allow-all-to-a", PodA, ingress: [From([PodsIn(Empty, Empty)])])),
            Tcp(80, r => r.AllIngress("x/a", true).AllIngress("x/b", false).AllIngress("x/c", false)),
        ]),
        new("should enforce policy to allow ingress traffic from pods in all namespaces",
        [
            Apply(Policy("x", "allow-from-another-ns", PodA, ingress: [From([Namespaces(Labels())])])),
            Tcp(80, r => r),
        ]),
        new("should enforce policy to allow traffic only from a different namespace, based on NamespaceSelector",
        [
            Apply(Policy("x", "allow-client-a-via-ns-selector", PodA, ingress: [From([Namespaces(Labels((NameLabel, "y")))])])),
            Tcp(80, r => r.Expect("x/*", "x/a", false).Expect("z/*", "x/a", false)),
        ]),
        new("should enforce policy based on PodSelector with MatchExpressions",
        [
            Apply(Policy("x", "x-a-allows-x-b", PodA, ingress: [From([Pods(Expression("pod", "In", "b"))])])),
            Tcp(80, r => r.AllIngress("x/a", false).Expect("x/b", "x/a", true)),
        ]),
        new("should enforce policy based on NamespaceSelector with MatchExpressions",
        [
            Apply(Policy("x", "allow-ns-y-match-selector", PodA, ingress: [From([Namespaces(Expression(NameLabel, "In", "y"))])])),
            Tcp(80, r => r.Expect("x/*", "x/a", false).Expect("z/*", "x/a", false)),
        ]),
        new("should enforce policy based on PodSelector or NamespaceSelector",
        [
            Apply(Policy("x", "allow-ns-y-match-selector", PodA, ingress: [From([Namespaces(Expression(NameLabel, "NotIn", "x")), Pods(PodB)])])),
            Tcp(80, r => r.Expect("x/c", "x/a", false)),
        ]),
        new("should enforce policy based on PodSelector and NamespaceSelector",
        [
            Apply(Policy("x", "allow-ns-y-podselector-and-nsselector", PodA, ingress: [From([PodsIn(Expression(NameLabel, "NotIn", "x"), PodB)])])),
            Tcp(80, r => r.AllIngress("x/a", false).Expect("y/b", "x/a", true).Expect("z/b", "x/a", true)),
        ]),
        new("should enforce policy based on Multiple PodSelectors and NamespaceSelectors",
        [
            Apply(Policy("x", "allow-ns-y-z-pod-b-c", PodA, ingress: [From([PodsIn(Expression(NameLabel, "NotIn", "x"), Expression("pod", "In", "b", "c"))])])),
            Tcp(80, r => r.Expect("x/*", "x/a", false).Expect("y/a", "x/a", false).Expect("z/a", "x/a", false)),
        ]),
        new("should enforce policy based on any PodSelectors",
        [
            Apply(Policy("x", "allow-ns-x-pod-b-c", PodA, ingress: [From([Pods(PodB), Pods(Labels(("pod", "c")))])])),
            Tcp(80, r => r.AllIngress("x/a", false).Expect("x/b", "x/a", true).Expect("x/c", "x/a", true)),
        ]),
        new("should enforce policy to allow traffic only from a pod in a different namespace based on PodSelector and NamespaceSelector",
        [
            Apply(Policy("x", "allow-ns-y-pod-a-via-namespace-pod-selector", PodA, ingress: [From([PodsIn(Labels((NameLabel, "y")), PodA)])])),
            Tcp(80, r => r.AllIngress("x/a", false).Expect("y/a", "x/a", true)),
        ]),
        new("should enforce policy based on Ports",
        [
            Apply(Policy("x", "allow-client-a-via-ns-selector", PodA, ingress: [From([Namespaces(Labels((NameLabel, "y")))], [NumberedPort(81, "TCP")])])),
            Tcp(81, r => r.Expect("x/*", "x/a", false).Expect("y/*", "x/a", true).Expect("z/*", "x/a", false)),
        ]),
        new("should enforce multiple, stacked policies with overlapping podSelectors",
        [
            Apply(Policy("x", "allow-client-a-via-ns-selector", PodA, ingress: [From([Namespaces(Labels((NameLabel, "y")))], [NumberedPort(81, "TCP")])])),
            Tcp(81, r => r.Expect("x/*", "x/a", false).Expect("y/*", "x/a", true).Expect("z/*", "x/a", false)),
            Tcp(80, r => r.AllIngress("x/a", false)),
            Apply(Policy("x", "allow-client-a-via-ns-selector-80", PodA, ingress: [From([Namespaces(Labels((NameLabel, "y")))], [NumberedPort(80, "TCP")])])),
            Tcp(80, r => r.Expect("x/*", "x/a", false).Expect("y/*", "x/a", true).Expect("z/*", "x/a", false)),
        ]),
        new("should support allow-all policy",
        [
            Apply(Policy("x", "allow-all", Labels(), ingress: [From()])),
            Tcp(80, r => r),
            Tcp(81, r => r),
        ]),
        new("should allow ingress access on one named port",
        [
            Apply(Policy("x", "allow-all", Labels(), ingress: [From(ports: [NamedPort("serve-81-tcp")])])),
            Tcp(81, r => r),
            Tcp(80, r => r.Expect("*", "x/*", false)),
        ]),
        new("should allow ingress access from namespace on one named port",
        [
            Apply(Policy("x", "allow-client-a-via-ns-selector-80", PodA, ingress: [From([Namespaces(Labels((NameLabel, "y")))], [NamedPort("serve-80-tcp", "TCP")])])),
            Tcp(80, r => r.Expect("x/*", "x/a", false).Expect("z/*", "x/a", false)),
            Tcp(81, r => r.AllIngress("x/a", false)),
        ]),
        new("should allow egress access on one named port",
        [
            Apply(Policy("x", "allow-egress", Labels(), egress: [To(ports: [NamedPort("serve-80-tcp")])])),
            Tcp(80, r => r),
            Tcp(81, r => r.Expect("x/*", "*", false)),
        ]),
        new("should enforce updated policy",
        [
            Apply(Policy("x", "allow-all-mutate-to-deny-all", Labels(), ingress: [From()])),
            Tcp(81, r => r),
            Apply(Policy("x", "allow-all-mutate-to-deny-all", Labels(), ingress: [])),
            Tcp(81, r => r.Expect("*", "x/*", false)),
        ]),
        new("should allow ingress access from updated namespace",
        [
            Apply(Policy("x", "allow-client-a-via-ns-selector", PodA, ingress: [From([Namespaces(Labels(("ns2", "updated")))])])),
            Tcp(80, r => r.AllIngress("x/a", false)),
            new LabelNamespace("y", "ns2", "updated"),
            Tcp(80, r => r.AllIngress("x/a", false).Expect("y/*", "*", true)),
        ]),
        new("should allow ingress access from updated pod",
        [
            Apply(Policy("x", "allow-client-a-via-pod-selector", PodA, ingress: [From([Pods(Labels(("pod", "b"), ("pod2", "updated")))])])),
            Tcp(80, r => r.AllIngress("x/a", false)),
            new LabelPod("x/b", "pod2", "updated"),
            Tcp(80, r => r.AllIngress("x/a", false).Expect("x/b", "x/a", true)),
        ]),
        new("should deny ingress from pods on other namespaces",
        [
            Apply(Policy("x", "deny-empty-policy", Empty, ingress: [From([Pods(Labels())])])),
            Tcp(80, r => r.Expect("y/*", "x/*", false).Expect("z/*", "x/*", false)),
        ]),
        new("should deny ingress access to updated pod",
        [
            Apply(Policy("x", "deny-ingress-via-label-selector", Labels(("target", "isolated")), ingress: [])),
            Tcp(80, r => r),
            new LabelPod("x/a", "target", "isolated"),
            Tcp(80, r => r.AllIngress("x/a", false)),
        ]),
        new("should deny egress from pods based on PodSelector",
        [
            Apply(Policy("x", "deny-egress-pod-a", PodA, egress: [])),
            Tcp(80, r => r.AllEgress("x/a", false)),
        ]),
        new("should deny egress from all pods in a namespace",
        [
            Apply(Policy("x", "deny-egress-ns-x", Empty, egress: [])),
            Tcp(80, r => r.Expect("x/*", "*", false)),
        ]),
        new("should work with Ingress, Egress specified together",
        [
            Apply(Policy("x", "allow-client-a-via-pod-selector", PodA, ingress: [From([Pods(PodB)])], egress: [To(ports: [NumberedPort(80)])],
                policyTypes: ["Egress", "Ingress"])),
            Tcp(80, r => r.AllIngress("x/a", false).Expect("x/b", "x/a", true)),
            Tcp(81, r => r.AllIngress("x/a", false).AllEgress("x/a", false).Expect("x/b", "x/a", true)),
        ]),
        new("should support denying of egress traffic on the client side (even if the server explicitly allows this traffic)",
        [
            Apply(Policy("x", "allow-to-ns-y-pod-a", PodA, egress: [To([PodsIn(Labels((NameLabel, "y")), PodA)])])),
            Apply(Policy("y", "allow-from-xa-on-ya-match-selector", PodA, ingress: [From([PodsIn(Labels((NameLabel, "x")), PodA)])])),
            Apply(Policy("y", "allow-from-xa-on-yb-match-selector", PodB, ingress: [From([PodsIn(Labels((NameLabel, "x")), PodA)])])),
            Tcp(80, r => r.Expect("x/a", "*", false).Expect("*", "y/a", false).Expect("x/a", "y/a", true).Expect("*", "y/b", false)),
        ]),
        new("should enforce egress policy allowing traffic to a server in a different namespace based on PodSelector and NamespaceSelector",
        [
            Apply(Policy("x", "allow-to-ns-y-pod-a", PodA, egress: [To([PodsIn(Labels((NameLabel, "y")), PodA)])])),
            Tcp(80, r => r.AllEgress("x/a", false).Expect("x/a", "y/a", true)),
        ]),
        new("should enforce ingress policy allowing any port traffic to a server on a specific protocol",
        [
            Apply(Policy("x", "allow-ingress-by-proto", PodA, ingress: [From(ports: [ProtocolOnly("TCP")])])),
            Tcp(80, r => r),
            new Check(80, "UDP", r => r.Expect("*", "x/a", false)),
        ]),
        new("should enforce multiple ingress policies with ingress allow-all policy taking precedence",
        [
            Apply(Policy("x", "allow-ingress-port-80", Labels(), ingress: [From(ports: [NumberedPort(80)])])),
            Tcp(81, r => r.Expect("*", "x/*", false)),
            Apply(Policy("x", "allow-ingress", Labels(), ingress: [From()])),
            Tcp(81, r => r),
        ]),
        new("should enforce multiple egress policies with egress allow-all policy taking precedence",
        [
            Apply(Policy("x", "allow-egress-port-80", Labels(), egress: [To(ports: [NumberedPort(80)])])),
            Tcp(81, r => r.Expect("x/*", "*", false)),
            Apply(Policy("x", "allow-egress", Labels(), egress: [To()])),
            Tcp(81, r => r),
        ]),
        new("should stop enforcing policies after they are deleted",
        [
            Apply(Policy("x", "deny-all", Empty, ingress: [], egress: [])),
            Tcp(80, r => r.Expect("x/*", "*", false).Expect("*", "x/*", false)),
            new DeleteAllPolicies(),
            Tcp(80, r => r),
        ]),
        new("should allow egress access to server in CIDR block",
        [
            Apply(a => Policy("x", "allow-client-a-via-cidr-egress-rule", PodA, egress: [To(a.HostBlocks("y/b"))])),
            Tcp(80, r => r.AllEgress("x/a", false).Expect("x/a", "y/b", true)),
        ]),
        new("should enforce except clause while egress access to server in CIDR block",
        [
            Apply(a => Policy("x", "allow-client-a-via-cidr-egress-rule", PodA, egress: [To(a.LargeBlocksExceptHost("x/b"))])),
            Tcp(80, r => r.Expect("x/a", "x/b", false)),
        ]),
        new("should ensure an IP overlapping both IPBlock.CIDR and IPBlock.Except is allowed",
        [
            Apply(a => Policy("x", "allow-client-a-via-cidr-egress-rule", PodA, egress: [To(a.LargeBlocksExceptHost("x/b"))])),
            Tcp(80, r => r.Expect("x/a", "x/b", false)),
            Apply(a => Policy("x", "allow-client-a-via-cidr-egress-rule", PodA, egress: [To(a.HostBlocks("x/b"))])),
            Tcp(80, r => r.AllEgress("x/a", false).Expect("x/a", "x/b", true)),
        ]),
        new("should enforce policies to check ingress and egress policies can be controlled independently based on PodSelector",
        [
            Apply(Policy("x", "allow-egress-for-target", PodA, egress: [To()])),
            Tcp(80, r => r),
            Apply(Policy("x", "deny-ingress-via-label-selector", PodA, ingress: [])),
            Tcp(80, r => r.AllIngress("x/a", false)),
        ]),
        new("should not mistakenly treat 'protocol: SCTP' as 'protocol: TCP', even if the plugin doesn't support SCTP",
        [
            Apply(Policy("x", "deny-ingress", Empty, ingress: [])),
            Apply(Policy("x", "allow-only-sctp-ingress-on-port-81", PodA, ingress: [From(ports: [NumberedPort(81, "SCTP")])])),
            Tcp(81, r => r.Expect("*", "x/*", false)),
        ]),
        new("should properly isolate pods that are selected by a policy allowing SCTP, even if the plugin doesn't support SCTP",
        [
            Apply(Policy("x", "allow-only-sctp-ingress-on-port-80", PodA, ingress: [From(ports: [NumberedPort(80, "SCTP")])])),
            Tcp(81, r => r.AllIngress("x/a", false)),
        ]),
        new("should not allow access by TCP when a policy specifies only UDP",
        [
            Apply(Policy("x", "allow-only-udp-ingress-on-port-81", PodA, ingress: [From(ports: [NumberedPort(81, "UDP")])])),
            Tcp(81, r => r.AllIngress("x/a", false)),
        ]),
        new("should enforce policy to allow traffic based on NamespaceSelector with MatchLabels using default ns label",
        [
            Apply(Policy("x", "allow-client-a-via-ns-selector-for-immutable-ns-label", PodA, ingress: [From([Namespaces(Labels((NameLabel, "y")))])])),
            Tcp(80, r => r.Expect("x/*", "x/a", false).Expect("z/*", "x/a", false)),
        ]),
        new("should enforce policy based on NamespaceSelector with MatchExpressions using default ns label",
        [
            Apply(Policy("x", "allow-ns-y-match-selector-for-immutable-ns-label", PodA, egress: [To([Namespaces(Expression(NameLabel, "NotIn", "y"))])])),
            Tcp(80, r => r.Expect("x/a", "y/*", false)),
        ]),
        .. ProtocolCases("UDP"),
        .. ProtocolCases("SCTP"),
        new("(Trellis) should allow ingress on a port range with endPort",
        [
            Apply(Policy("x", "allow-80-81", PodA, ingress: [From(ports: [NumberedPort(80, "TCP", endPort: 81)])])),
            Tcp(80, r => r),
            Tcp(81, r => r),
            Apply(Policy("x", "allow-80-81", PodA, ingress: [From(ports: [NumberedPort(81, "TCP", endPort: 82)])])),
            Tcp(80, r => r.AllIngress("x/a", false)),
            Tcp(81, r => r),
        ]),
        new("(Trellis) should allow egress on a port range with endPort over UDP only",
        [
            Apply(Policy("x", "allow-udp-79-80", PodA, egress: [To([Namespaces(Labels(("ns", "y")))], [NumberedPort(79, "UDP", endPort: 80)])])),
            new Check(80, "UDP", r => r.AllEgress("x/a", false).Expect("x/a", "y/*", true)),
            new Check(81, "UDP", r => r.AllEgress("x/a", false)),
            Tcp(80, r => r.AllEgress("x/a", false)),
        ]),
    ];

    /// <summary>The three cases upstream repeats for UDP and for SCTP.</summary>
    private static UpstreamCase[] ProtocolCases(string protocol) =>
    [
        new($"{protocol}: should support a 'default-deny-ingress' policy",
        [
            Apply(Policy("x", "deny-all", Empty, ingress: [])),
            new Check(80, protocol, r => r.Expect("*", "x/*", false)),
        ]),
        new($"{protocol}: should enforce policy based on Ports",
        [
            Apply(Policy("x", "allow-ingress-on-port-81-ns-x", PodA, ingress: [From([Namespaces(Labels((NameLabel, "y")))], [NumberedPort(81, protocol)])])),
            new Check(81, protocol, r => r.Expect("x/*", "x/a", false).Expect("z/*", "x/a", false)),
        ]),
        new($"{protocol}: should enforce policy to allow traffic only from a pod in a different namespace based on PodSelector and NamespaceSelector",
        [
            Apply(Policy("x", "allow-ns-y-pod-a-via-namespace-pod-selector", PodA, ingress: [From([PodsIn(Labels((NameLabel, "y")), PodA)])])),
            new Check(80, protocol, r => r.AllIngress("x/a", false).Expect("y/a", "x/a", true)),
        ]),
    ];
}
