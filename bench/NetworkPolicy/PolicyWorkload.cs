using k8s.Models;

namespace Trellis.Bench.NetworkPolicy;

/// <summary>
/// A cluster for the policy benchmark: 50 namespaces of 100 pods (5,000) on 50 nodes (100 pods
/// each, a mix of apps from every namespace), and 20 policies per namespace (1,000) in the shapes
/// people write: a default deny, app-to-app on a named port, namespace selectors with port
/// ranges, expressions, egress to ipBlocks with exceptions and to selected pods.
/// </summary>
public sealed record PolicyWorkload(IReadOnlyList<V1NetworkPolicy> Policies, IReadOnlyList<V1Namespace> Namespaces, IReadOnlyList<V1Pod> Pods)
{
    public const int NamespaceCount = 50;
    public const int PodsPerNamespace = 100;
    public const int NodeCount = 50;
    public const string Node = "node0";

    public static string NodeOf(int ns, int pod) => $"node{(ns + pod) % NodeCount}";

    public static PolicyWorkload Build()
    {
        var namespaces = new List<V1Namespace>();
        var pods = new List<V1Pod>();
        var policies = new List<V1NetworkPolicy>();
        var hostOnNode = new int[NodeCount];
        for (int n = 0; n < NamespaceCount; n++)
        {
            var ns = $"ns{n:00}";
            namespaces.Add(new V1Namespace
            {
                Metadata = new V1ObjectMeta { Name = ns, Labels = new Dictionary<string, string> { ["team"] = $"team{n % 5}", ["env"] = n % 2 == 0 ? "prod" : "dev" } },
            });
            for (int p = 0; p < PodsPerNamespace; p++)
                pods.Add(Pod(ns, n, p, hostOnNode));
            policies.AddRange(PoliciesOf(ns, n));
        }
        return new PolicyWorkload(policies, namespaces, pods);
    }

    /// <summary>One more pod in <paramref name="ns"/>, on another node: the unit of pod churn.</summary>
    public static V1Pod ExtraPod(string ns, int index) =>
        MakePod(ns, $"extra{index}", new Dictionary<string, string> { ["app"] = "app1", ["tier"] = "front" }, "node1", $"10.245.{index / 250}.{2 + index % 250}");

    private static V1Pod Pod(string ns, int n, int p, int[] hostOnNode)
    {
        var node = NodeOf(n, p);
        int k = int.Parse(node.AsSpan(4), System.Globalization.CultureInfo.InvariantCulture);
        int host = 2 + hostOnNode[k]++;
        var labels = new Dictionary<string, string> { ["app"] = $"app{p % 10}", ["tier"] = p % 2 == 0 ? "front" : "back", ["release"] = $"r{p % 3}" };
        return MakePod(ns, $"pod{p:000}", labels, node, $"10.244.{k}.{host}");
    }

    private static V1Pod MakePod(string ns, string name, Dictionary<string, string> labels, string node, string ip) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, Labels = labels },
        Spec = new V1PodSpec
        {
            NodeName = node,
            Containers =
            [
                new V1Container
                {
                    Name = "app",
                    Ports =
                    [
                        new V1ContainerPort { Name = "http", ContainerPort = 8080, Protocol = "TCP" },
                        new V1ContainerPort { Name = "metrics", ContainerPort = 9090, Protocol = "TCP" },
                        new V1ContainerPort { Name = "dns", ContainerPort = 53, Protocol = "UDP" },
                    ],
                },
            ],
        },
        Status = new V1PodStatus { Phase = "Running", PodIP = ip, PodIPs = [new V1PodIP { Ip = ip }] },
    };

    private static IEnumerable<V1NetworkPolicy> PoliciesOf(string ns, int n)
    {
        V1NetworkPolicy Policy(string name, V1LabelSelector selector, List<V1NetworkPolicyIngressRule>? ingress, List<V1NetworkPolicyEgressRule>? egress, params string[] types) => new()
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns },
            Spec = new V1NetworkPolicySpec { PodSelector = selector, Ingress = ingress, Egress = egress, PolicyTypes = types.ToList() },
        };
        V1LabelSelector App(int a) => new() { MatchLabels = new Dictionary<string, string> { ["app"] = $"app{a}" } };

        yield return Policy("default-deny", new V1LabelSelector(), [], null, "Ingress");
        for (int a = 0; a < 10; a++)
            yield return Policy($"app{a}-from-app{(a + 1) % 10}", App(a),
                [new V1NetworkPolicyIngressRule { FromProperty = [new V1NetworkPolicyPeer { PodSelector = App((a + 1) % 10) }], Ports = [new V1NetworkPolicyPort { Port = "http" }] }], null, "Ingress");
        for (int t = 0; t < 3; t++)
            yield return Policy($"team{(n + t) % 5}-to-app{t}", App(t),
                [new V1NetworkPolicyIngressRule
                {
                    FromProperty = [new V1NetworkPolicyPeer { NamespaceSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["team"] = $"team{(n + t) % 5}" } } }],
                    Ports = [new V1NetworkPolicyPort { Port = 8080, EndPort = 8090, Protocol = "TCP" }],
                }], null, "Ingress");
        yield return Policy("front-egress-outside", new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["tier"] = "front" } }, null,
            [new V1NetworkPolicyEgressRule
            {
                To = [new V1NetworkPolicyPeer { IpBlock = new V1IPBlock { Cidr = "10.0.0.0/8", Except = ["10.244.0.0/16", "10.245.0.0/16"] } }],
                Ports = [new V1NetworkPolicyPort { Port = 443 }],
            },
            new V1NetworkPolicyEgressRule { To = [new V1NetworkPolicyPeer { NamespaceSelector = new V1LabelSelector(), PodSelector = App(0) }] },
            new V1NetworkPolicyEgressRule { Ports = [new V1NetworkPolicyPort { Port = "dns", Protocol = "UDP" }] }], "Egress");
        yield return Policy("back-egress", new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["tier"] = "back" } }, null,
            [new V1NetworkPolicyEgressRule
            {
                To = [new V1NetworkPolicyPeer
                {
                    NamespaceSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["env"] = n % 2 == 0 ? "prod" : "dev" } },
                    PodSelector = new V1LabelSelector { MatchExpressions = [new V1LabelSelectorRequirement { Key = "app", OperatorProperty = "In", Values = ["app1", "app2", "app3"] }] },
                }],
            }], "Egress");
        for (int m = 0; m < 2; m++)
            yield return Policy($"monitoring-{m}", new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["release"] = $"r{m}" } },
                [new V1NetworkPolicyIngressRule
                {
                    FromProperty = [new V1NetworkPolicyPeer { NamespaceSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["kubernetes.io/metadata.name"] = "ns00" } } }],
                    Ports = [new V1NetworkPolicyPort { Port = "metrics" }],
                }], null, "Ingress");
        for (int e = 0; e < 2; e++)
            yield return Policy($"expressions-{e}", new V1LabelSelector { MatchExpressions = [new V1LabelSelectorRequirement { Key = "app", OperatorProperty = "NotIn", Values = [$"app{e}", $"app{e + 5}"] }] },
                [new V1NetworkPolicyIngressRule
                {
                    FromProperty = [new V1NetworkPolicyPeer { PodSelector = new V1LabelSelector { MatchExpressions = [new V1LabelSelectorRequirement { Key = "release", OperatorProperty = "Exists" }] } }],
                    Ports = [new V1NetworkPolicyPort { Port = 9000 + e, Protocol = e == 0 ? "TCP" : "SCTP" }],
                }], null, "Ingress");
    }
}
