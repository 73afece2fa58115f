using System.Text.RegularExpressions;
using k8s.Models;
using Trellis.Addressing;

namespace Trellis.NetworkPolicy.Facts;

/// <summary>
/// Turns a NetworkPolicy into <see cref="PolicyFacts"/>. A policy is a promise of isolation, so a
/// mistake never widens what it allows: a broken podSelector selects every pod of the namespace,
/// broken policyTypes isolate both directions, and a rule with a broken peer or port is left out
/// (allowing nothing). Each mistake is reported with the policy and the field.
/// </summary>
public static partial class PolicyParser
{
    public const string IngressType = "Ingress";
    public const string EgressType = "Egress";

    public static PolicyFacts Parse(V1NetworkPolicy policy, ICollection<string> problems)
    {
        var ns = policy.Metadata?.NamespaceProperty ?? "default";
        var name = policy.Metadata?.Name ?? "(unnamed)";
        var spec = policy.Spec ?? new V1NetworkPolicySpec();
        void Report(string what) => problems.Add($"NetworkPolicy {ns}/{name}: {what}");

        var podSelector = PolicySelector.Parse(spec.PodSelector, "spec.podSelector", out var selectorError);
        if (podSelector is null)
        {
            Report($"{selectorError}; isolating every pod of namespace {ns} instead");
            podSelector = PolicySelector.Everything;
        }

        var ingressRules = new List<PolicyRule>();
        var ingress = spec.Ingress ?? [];
        for (int i = 0; i < ingress.Count; i++)
            if (ParseRule(ingress[i]?.FromProperty, ingress[i]?.Ports, $"spec.ingress[{i}]", "from", Report) is { } rule)
                ingressRules.Add(rule);
        var egressRules = new List<PolicyRule>();
        var egress = spec.Egress ?? [];
        for (int i = 0; i < egress.Count; i++)
            if (ParseRule(egress[i]?.To, egress[i]?.Ports, $"spec.egress[{i}]", "to", Report) is { } rule)
                egressRules.Add(rule);

        var (appliesToIngress, appliesToEgress) = ParseTypes(spec, Report);
        return new PolicyFacts(ns, name, podSelector, appliesToIngress, appliesToEgress, ingressRules, egressRules);
    }

    /// <summary>Without policyTypes the API sets Ingress always and Egress when there are egress rules.</summary>
    private static (bool Ingress, bool Egress) ParseTypes(V1NetworkPolicySpec spec, Action<string> report)
    {
        if (spec.PolicyTypes is not { Count: > 0 } types)
            return (true, spec.Egress is { Count: > 0 });
        var unknown = types.Where(t => t is not (IngressType or EgressType)).ToList();
        if (unknown.Count > 0)
        {
            report($"spec.policyTypes: \"{string.Join("\", \"", unknown)}\" is not Ingress or Egress; isolating both directions instead");
            return (true, true);
        }
        return (types.Contains(IngressType), types.Contains(EgressType));
    }

    private delegate T? EntryParser<TEntry, T>(TEntry? entry, string path, out string? error) where T : class;

    private static PolicyRule? ParseRule(IList<V1NetworkPolicyPeer>? peers, IList<V1NetworkPolicyPort>? ports, string path, string peerField, Action<string> report)
    {
        if (!TryParseList(peers, $"{path}.{peerField}", ParsePeer, report, out var parsedPeers)) return null;
        if (!TryParseList(ports, $"{path}.ports", ParsePort, report, out var parsedPorts)) return null;
        return new PolicyRule(parsedPeers, parsedPorts);
    }

    /// <summary>Every entry parsed, or false at the first broken one (reported); an absent or empty list stays null, "everything".</summary>
    private static bool TryParseList<TEntry, T>(IList<TEntry>? entries, string path, EntryParser<TEntry, T> parse, Action<string> report, out List<T>? parsed)
        where T : class
    {
        parsed = null;
        if (entries is not { Count: > 0 }) return true;
        parsed = [];
        for (int i = 0; i < entries.Count; i++)
        {
            if (parse(entries[i], $"{path}[{i}]", out var error) is not { } entry)
            {
                report($"{error}; this rule allows nothing");
                parsed = null;
                return false;
            }
            parsed.Add(entry);
        }
        return true;
    }

    private static PolicyPeer? ParsePeer(V1NetworkPolicyPeer? peer, string path, out string? error)
    {
        error = null;
        if (peer is null || (peer.IpBlock is null && peer.NamespaceSelector is null && peer.PodSelector is null))
        {
            error = $"{path} names no ipBlock, namespaceSelector or podSelector";
            return null;
        }
        if (peer.IpBlock is { } block)
        {
            if (peer.NamespaceSelector is not null || peer.PodSelector is not null)
            {
                error = $"{path}: ipBlock cannot be combined with a namespaceSelector or podSelector";
                return null;
            }
            return ParseBlock(block, $"{path}.ipBlock", out error);
        }
        PolicySelector? namespaces = null, pods = null;
        if (peer.NamespaceSelector is not null &&
            (namespaces = PolicySelector.Parse(peer.NamespaceSelector, $"{path}.namespaceSelector", out error)) is null)
            return null;
        if (peer.PodSelector is not null &&
            (pods = PolicySelector.Parse(peer.PodSelector, $"{path}.podSelector", out error)) is null)
            return null;
        return new SelectorPeer(namespaces, pods);
    }

    /// <summary>The API reads a CIDR as Go's ParseCIDR does: host bits are masked off, not refused.</summary>
    private static BlockPeer? ParseBlock(V1IPBlock block, string path, out string? error)
    {
        if (!IpPrefix.TryParse(block.Cidr, out var prefix, out error))
        {
            error = $"{path}.cidr: {error}";
            return null;
        }
        var cidr = prefix.Network;
        var except = new List<Cidr>();
        var texts = block.Except ?? [];
        for (int i = 0; i < texts.Count; i++)
        {
            if (!IpPrefix.TryParse(texts[i], out var exceptPrefix, out error))
            {
                error = $"{path}.except[{i}]: {error}";
                return null;
            }
            var excepted = exceptPrefix.Network;
            if (!cidr.Contains(excepted))
            {
                error = $"{path}.except[{i}] {excepted} is not inside cidr {cidr}";
                return null;
            }
            except.Add(excepted);
        }
        error = null;
        return new BlockPeer(cidr, except);
    }

    private static PolicyPort? ParsePort(V1NetworkPolicyPort? port, string path, out string? error)
    {
        error = null;
        if (!TransportProtocols.TryParse(port?.Protocol, out var protocol))
        {
            error = $"{path}.protocol \"{port?.Protocol}\" is not TCP, UDP or SCTP";
            return null;
        }
        var value = port?.Port?.Value;
        if (string.IsNullOrEmpty(value))
        {
            if (port?.EndPort is not null)
            {
                error = $"{path}.endPort needs a numbered port";
                return null;
            }
            return PolicyPort.AllOf(protocol);
        }
        if (int.TryParse(value, System.Globalization.NumberStyles.None, null, out int number))
        {
            if (number is < 1 or > PolicyPort.Highest)
            {
                error = $"{path}.port {number} is outside 1..65535";
                return null;
            }
            int last = port!.EndPort ?? number;
            if (last < number || last > PolicyPort.Highest)
            {
                error = $"{path}.endPort {last} must be between port {number} and 65535";
                return null;
            }
            return PolicyPort.Numbered(protocol, number, last);
        }
        if (port!.EndPort is not null)
        {
            error = $"{path}.endPort cannot follow the named port \"{value}\"";
            return null;
        }
        if (!PortName().IsMatch(value) || value.Contains("--") || !value.Any(char.IsAsciiLetter))
        {
            error = $"{path}.port \"{value}\" is neither a number nor a port name (1-15 lowercase letters, digits and inner dashes)";
            return null;
        }
        return PolicyPort.Named(protocol, value);
    }

    [GeneratedRegex("^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$")]
    private static partial Regex PortName();
}
