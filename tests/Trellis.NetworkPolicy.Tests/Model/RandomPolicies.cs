using System.Net;
using System.Net.Sockets;
using k8s.Models;
using static Trellis.NetworkPolicy.Tests.Model.PolicyObjects;

namespace Trellis.NetworkPolicy.Tests.Model;

/// <summary>
/// Random policies over the upstream model, in the manner of Cyclonus: selectors of every shape
/// (matchLabels, each expression operator, both in one peer), ipBlocks around pod addresses and
/// the outside host with random exceptions, numbered ports, ranges, names that pods do and do not
/// declare, protocol-only ports, and every policyTypes form. Pods and namespaces get random extra
/// labels first, so selectors split the model in many ways. A seed gives the same world every time.
/// </summary>
public static class RandomPolicies
{
    private static readonly string[] PodLabelKeys = ["pod", "tier"];
    private static readonly string[] Tiers = ["front", "back"];
    private static readonly string[] Teams = ["red", "blue"];

    public static void Apply(ClusterState state, int seed)
    {
        var random = new Random(seed);
        UpstreamModel.Reset(state);
        foreach (var pod in state.Pods)
            if (random.Next(3) > 0) pod.Labels["tier"] = Pick(random, Tiers);
        foreach (var labels in state.NamespaceLabels.Values)
            if (random.Next(2) > 0) labels["team"] = Pick(random, Teams);
        int count = 1 + random.Next(4);
        for (int i = 0; i < count; i++)
            state.Apply(Generate(random, state, $"random-{i}"));
    }

    private static V1NetworkPolicy Generate(Random random, ClusterState state, string name)
    {
        var ns = Pick(random, UpstreamModel.NamespaceNames);
        List<V1NetworkPolicyIngressRule>? ingress = random.Next(4) == 0 ? null
            : Enumerable.Range(0, random.Next(3)).Select(_ => new V1NetworkPolicyIngressRule { FromProperty = Peers(random, state), Ports = Ports(random) }).ToList();
        List<V1NetworkPolicyEgressRule>? egress = random.Next(4) == 0 ? null
            : Enumerable.Range(0, random.Next(3)).Select(_ => new V1NetworkPolicyEgressRule { To = Peers(random, state), Ports = Ports(random) }).ToList();
        List<string>? types = random.Next(4) switch
        {
            0 => null,
            1 => ["Ingress"],
            2 => ["Egress"],
            _ => ["Ingress", "Egress"],
        };
        return new V1NetworkPolicy
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns },
            Spec = new V1NetworkPolicySpec { PodSelector = Selector(random, pod: true) ?? Empty, Ingress = ingress, Egress = egress, PolicyTypes = types },
        };
    }

    private static List<V1NetworkPolicyPeer>? Peers(Random random, ClusterState state)
    {
        if (random.Next(4) == 0) return null;
        return Enumerable.Range(0, 1 + random.Next(3)).Select(_ => random.Next(5) switch
        {
            0 => new V1NetworkPolicyPeer { PodSelector = Selector(random, pod: true) ?? Empty },
            1 => new V1NetworkPolicyPeer { NamespaceSelector = Selector(random, pod: false) ?? Empty },
            2 => new V1NetworkPolicyPeer { NamespaceSelector = Selector(random, pod: false) ?? Empty, PodSelector = Selector(random, pod: true) ?? Empty },
            _ => new V1NetworkPolicyPeer { IpBlock = Block(random, state) },
        }).ToList();
    }

    private static V1IPBlock Block(Random random, ClusterState state)
    {
        var pods = state.Pods;
        // The families the pods have: both in the kernel lab, IPv4 only in the local cluster.
        var families = pods[0].Addresses.Select(a => a.AddressFamily).Distinct().Order().ToList();
        var family = families[random.Next(families.Count)];
        bool v4 = family == AddressFamily.InterNetwork;
        var around = random.Next(6) == 0
            ? (v4 ? Kernel.PolicyLab.ExternalV4 : Kernel.PolicyLab.ExternalV6)
            : Pick(random, pods).Address(family);
        int[] lengths = v4 ? [32, 24, 16, 4, 0] : [128, 64, 48, 4, 0];
        int length = Pick(random, lengths);
        var cidr = Network(around, length);
        var except = new List<string>();
        for (int i = random.Next(3); i > 0; i--)
        {
            var inside = pods.Select(p => p.Address(family)).Append(v4 ? Kernel.PolicyLab.ExternalV4 : Kernel.PolicyLab.ExternalV6)
                .Where(a => InNetwork(a, cidr.Address, length)).ToList();
            if (inside.Count == 0) break;
            var hole = Pick(random, inside);
            int holeLength = Math.Max(length, Pick(random, v4 ? new[] { 32, 28, 24 } : new[] { 128, 124, 64 }));
            except.Add($"{Network(hole, holeLength).Address}/{holeLength}");
        }
        return new V1IPBlock { Cidr = $"{cidr.Address}/{length}", Except = except.Count == 0 ? null : except.Distinct().ToList() };
    }

    private static (IPAddress Address, int Length) Network(IPAddress address, int length)
    {
        var bytes = address.GetAddressBytes();
        for (int bit = length; bit < bytes.Length * 8; bit++) bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        return (new IPAddress(bytes), length);
    }

    private static bool InNetwork(IPAddress address, IPAddress network, int length) => Network(address, length).Address.Equals(network);

    private static List<V1NetworkPolicyPort>? Ports(Random random)
    {
        if (random.Next(3) == 0) return null;
        return Enumerable.Range(0, 1 + random.Next(2)).Select(_ =>
        {
            string? protocol = random.Next(5) switch { 0 => null, 1 or 2 => "TCP", 3 => "UDP", _ => "SCTP" };
            return random.Next(6) switch
            {
                0 => new V1NetworkPolicyPort { Protocol = protocol },
                1 => NumberedPort(80, protocol),
                2 => NumberedPort(81, protocol),
                3 => NumberedPort(Pick(random, new[] { 79, 80, 81 }), protocol, endPort: Pick(random, new[] { 81, 82 })),
                4 => NamedPort($"serve-{Pick(random, UpstreamModel.ServedPorts)}-{(protocol ?? "TCP").ToLowerInvariant()}", protocol),
                _ => NamedPort(Pick(random, new[] { "serve-80-udp", "serve-81-tcp", "not-declared" }), protocol),
            };
        }).ToList();
    }

    /// <summary>A random selector over pod or namespace labels; null stands for "leave the field out".</summary>
    private static V1LabelSelector? Selector(Random random, bool pod)
    {
        string Key() => pod ? Pick(random, PodLabelKeys) : Pick(random, new[] { "ns", "team", "kubernetes.io/metadata.name" });
        string Value(string key) => key switch
        {
            "pod" => Pick(random, UpstreamModel.PodNames),
            "tier" => Pick(random, Tiers),
            "team" => Pick(random, Teams),
            _ => Pick(random, UpstreamModel.NamespaceNames),
        };
        switch (random.Next(6))
        {
            case 0:
                return null;
            case 1:
                return new V1LabelSelector();
            case 2:
            {
                var key = Key();
                return Labels((key, Value(key)));
            }
            default:
            {
                var key = Key();
                var op = Pick(random, new[] { "In", "NotIn", "Exists", "DoesNotExist" });
                var values = op is "In" or "NotIn" ? Enumerable.Range(0, 1 + random.Next(2)).Select(_ => Value(key)).Distinct().ToArray() : [];
                var selector = Expression(key, op, values);
                if (random.Next(3) == 0)
                {
                    var other = Key();
                    selector.MatchLabels = new Dictionary<string, string> { [other] = Value(other) };
                }
                return selector;
            }
        }
    }

    private static T Pick<T>(Random random, IReadOnlyList<T> items) => items[random.Next(items.Count)];
}
