using System.Net;
using Trellis.NetworkPolicy.Addresses;
using Trellis.NetworkPolicy.Facts;
using Trellis.NetworkPolicy.Ruleset;

namespace Trellis.NetworkPolicy.Compiling;

/// <summary>Which policy and direction a drop counter belongs to.</summary>
public sealed record PolicyCounter(string Counter, string PolicyNamespace, string PolicyName, PolicyDirection Direction);

/// <summary>What a node enforces: its policy table, the meaning of each drop counter, and what was wrong with the inputs.</summary>
public sealed record CompiledPolicies(PolicyTable Table, IReadOnlyList<PolicyCounter> Counters, IReadOnlyList<string> Problems);

/// <summary>
/// Compiles the policies that concern one node's pods into one nftables table, purely.
///
/// Shape: two base chains on the forward hook (bridged same-node traffic reaches it through
/// br_netfilter), one per direction, each first passing packets of established connections. A
/// verdict map sends a packet from (egress) or to (ingress) a local pod to the chain of its
/// "group", the list of policies isolating that pod in that direction; pods with the same list
/// share one group. A group chain jumps to each of its policies' chains, whose rules accept what
/// the policy allows, and drops the rest, counting the drop on every policy of the group. Pods
/// appear only as set and map elements, so rules grow with policies and groups, not with pods
/// times policies, and pod churn changes elements, not rules.
///
/// Egress and ingress are separate base chains because accept ends only the base chain it is in:
/// a same-node packet accepted by the egress chain still meets the ingress chain, while a drop
/// in either is final.
/// </summary>
public static class PolicyCompiler
{
    private const int CountersPerRule = 32;

    public static CompiledPolicies Compile(PolicyInputs inputs, string nodeName)
    {
        var context = new Context(inputs, nodeName);
        var counters = new List<NftCounter>();
        var sets = new List<NftSet>();
        var chains = new List<NftChain>();
        var meanings = new List<PolicyCounter>();
        var problems = new List<string>(inputs.Problems);
        var baseChains = new List<NftChain>();

        foreach (var direction in new[] { PolicyDirection.Egress, PolicyDirection.Ingress })
        {
            var compiled = CompileDirection(context, direction, problems);
            counters.AddRange(compiled.Counters);
            sets.AddRange(compiled.Sets);
            chains.AddRange(compiled.Chains);
            meanings.AddRange(compiled.Meanings);
            baseChains.Add(compiled.BaseChain);
        }
        // Callees before callers, so a reader (and nft) meets every chain before a jump to it.
        chains.AddRange(baseChains);
        var table = new PolicyTable(ObjectNames.Table, counters, sets, chains);
        return new CompiledPolicies(table, meanings, problems);
    }

    private sealed record DirectionOutput(List<NftCounter> Counters, List<NftSet> Sets, List<NftChain> Chains, List<PolicyCounter> Meanings, NftChain BaseChain);

    private static DirectionOutput CompileDirection(Context context, PolicyDirection direction, List<string> problems)
    {
        var output = new DirectionOutput([], [], [], [], null!);
        var groupsOfPods = new Dictionary<PodFacts, List<string>>();
        foreach (var policy in context.Inputs.Policies)
        {
            if (!(direction == PolicyDirection.Ingress ? policy.AppliesToIngress : policy.AppliesToEgress)) continue;
            var targets = context.LocalPodsIn(policy.Namespace).Where(p => policy.PodSelector.Matches(p.Labels)).ToList();
            if (targets.Count == 0) continue;

            var id = ObjectNames.PolicyId(policy.Namespace, policy.Name);
            var chainName = ObjectNames.PolicyChain(direction, id);
            var counter = ObjectNames.DropCounter(direction, id);
            output.Counters.Add(new NftCounter(counter, $"{direction} of NetworkPolicy {policy.Key}: packets of isolated pods no policy allowed"));
            output.Meanings.Add(new PolicyCounter(counter, policy.Namespace, policy.Name, direction));
            var rules = direction == PolicyDirection.Ingress ? policy.IngressRules : policy.EgressRules;
            var chainRules = new List<NftRule>();
            for (int i = 0; i < rules.Count; i++)
                chainRules.AddRange(CompileRule(context, direction, policy, targets, rules[i], chainName, i, output.Sets));
            output.Chains.Add(new NftChain(chainName, $"{direction} rules of NetworkPolicy {policy.Key}", null, chainRules));
            foreach (var target in targets)
            {
                if (!groupsOfPods.TryGetValue(target, out var group)) groupsOfPods[target] = group = [];
                group.Add(id);
            }
        }

        var groupChains = new Dictionary<string, NftChain>(StringComparer.Ordinal);
        var dispatch = context.Families.ToDictionary(f => f, _ => new SortedDictionary<string, DispatchElement>(StringComparer.Ordinal));
        foreach (var (pod, ids) in groupsOfPods)
        {
            var name = ObjectNames.GroupChain(direction, ids);
            if (!groupChains.ContainsKey(name))
                groupChains[name] = GroupChain(direction, name, ids);
            foreach (var address in pod.Addresses)
            {
                var elements = dispatch[IpFamilies.Of(address.AddressFamily)];
                var key = address.ToString();
                if (elements.TryGetValue(key, out var taken))
                {
                    if (taken.Chain != name)
                        problems.Add($"Pod {pod.Key}: address {address} is also held by another pod on node {context.NodeName}; the first pod's policies apply to it");
                    continue;
                }
                elements[key] = new DispatchElement(address, name);
            }
        }
        output.Chains.AddRange(groupChains.OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => g.Value));

        var baseRules = new List<NftRule> { new AcceptEstablished() };
        if (context.Families.Contains(IpFamily.V6)) baseRules.Add(new AcceptNeighborDiscovery());
        var end = direction == PolicyDirection.Ingress ? PacketEnd.Destination : PacketEnd.Source;
        foreach (var family in context.Families)
        {
            var map = ObjectNames.DispatchMap(direction, family);
            output.Sets.Add(new NftSet(map, SetKind.Dispatch, family, dispatch[family].Values.ToList<NftElement>()));
            baseRules.Add(new DispatchRule(family, end, map));
        }
        // The egress chain runs first; the order is not needed for correctness, only for reading.
        var hook = $"type filter hook forward priority filter{(direction == PolicyDirection.Egress ? " - 1" : "")}; policy accept;";
        var comment = direction == PolicyDirection.Ingress ? "NetworkPolicy ingress of pods on this node" : "NetworkPolicy egress of pods on this node";
        return output with { BaseChain = new NftChain(ObjectNames.BaseChain(direction), comment, hook, baseRules) };
    }

    private static NftChain GroupChain(PolicyDirection direction, string name, List<string> ids)
    {
        var rules = new List<NftRule>();
        rules.AddRange(ids.Select(id => new JumpRule(ObjectNames.PolicyChain(direction, id))));
        var counters = ids.Select(id => ObjectNames.DropCounter(direction, id)).ToList();
        // nftables caps a rule at 128 expressions; a counter is one.
        for (int i = 0; i < counters.Count; i += CountersPerRule)
        {
            var chunk = counters.Skip(i).Take(CountersPerRule).ToList();
            rules.Add(new CountRule(chunk, Drop: i + CountersPerRule >= counters.Count));
        }
        return new NftChain(name, $"{direction} of pods isolated by {string.Join(", ", ids)}", null, rules);
    }

    private static IEnumerable<NftRule> CompileRule(Context context, PolicyDirection direction, PolicyFacts policy,
        IReadOnlyList<PodFacts> targets, PolicyRule rule, string chainName, int index, List<NftSet> sets)
    {
        var peerEnd = direction == PolicyDirection.Ingress ? PacketEnd.Source : PacketEnd.Destination;
        IReadOnlyList<AddressRange>? peers = rule.Peers is null ? null : context.PeerRanges(policy, rule.Peers);
        var peerSets = new Dictionary<IpFamily, string>();
        if (peers is not null)
            foreach (var family in context.Families)
            {
                var name = ObjectNames.PeerSet(chainName, index, family);
                var af = family.AddressFamily();
                sets.Add(new NftSet(name, SetKind.Addresses, family, peers.Where(r => r.Family == af).Select(r => (NftElement)new AddressElement(r)).ToList()));
                peerSets[family] = name;
            }
        IEnumerable<PeerMatch?> PeerMatches() => peers is null
            ? [null]
            : context.Families.Select(f => (PeerMatch?)new PeerMatch(f, peerEnd, peerSets[f]));

        if (rule.Ports is null)
        {
            foreach (var peer in PeerMatches()) yield return new AllowRule(peer, null, null);
            yield break;
        }

        var numbered = rule.Ports.Where(p => !p.IsNamed).ToList();
        if (numbered.Count > 0)
        {
            var name = ObjectNames.PortSet(chainName, index);
            sets.Add(new NftSet(name, SetKind.Ports, IpFamily.V4, MergePorts(numbered)));
            foreach (var peer in PeerMatches()) yield return new AllowRule(peer, name, null);
        }

        var named = rule.Ports.Where(p => p.IsNamed).ToList();
        if (named.Count == 0) yield break;
        // A name is resolved on each destination pod: for ingress the policy's own targets, for egress
        // every pod the rule lets the target reach (a name a pod does not declare matches nothing on it).
        var destinations = direction == PolicyDirection.Ingress
            ? targets.SelectMany(p => p.Addresses.Select(a => (Pod: p, Address: a)))
            : context.Inputs.Pods.SelectMany(p => p.Addresses.Select(a => (Pod: p, Address: a)))
                .Where(d => peers is null || peers.Any(r => r.Contains(d.Address)));
        var elements = new HashSet<NamedPortElement>();
        foreach (var (pod, address) in destinations)
            foreach (var port in named)
                if (pod.Resolve(port.Name!, port.Protocol) is { } number)
                    elements.Add(new NamedPortElement(address, port.Protocol, number));
        foreach (var family in context.Families)
        {
            var name = ObjectNames.NamedPortSet(chainName, index, family);
            var af = family.AddressFamily();
            sets.Add(new NftSet(name, SetKind.NamedPorts, family, elements
                .Where(e => e.Address.AddressFamily == af)
                .OrderBy(e => e.ToString(), StringComparer.Ordinal)
                .ToList<NftElement>()));
            // For egress the set already holds only allowed destinations; the peer match is ingress's.
            var peer = direction == PolicyDirection.Ingress && peers is not null ? new PeerMatch(family, peerEnd, peerSets[family]) : null;
            yield return new AllowRule(peer, null, (family, name));
        }
    }

    /// <summary>Overlapping or touching ranges of one protocol become one, as interval sets need.</summary>
    private static List<NftElement> MergePorts(IEnumerable<PolicyPort> ports)
    {
        var merged = new List<NftElement>();
        foreach (var group in ports.GroupBy(p => p.Protocol).OrderBy(g => g.Key))
        {
            PortElement? current = null;
            foreach (var port in group.OrderBy(p => p.First).ThenBy(p => p.Last))
            {
                if (current is not null && port.First <= current.Last + 1)
                {
                    if (port.Last > current.Last) current = current with { Last = port.Last };
                    continue;
                }
                if (current is not null) merged.Add(current);
                current = new PortElement(port.Protocol, port.First, port.Last);
            }
            if (current is not null) merged.Add(current);
        }
        return merged;
    }

    /// <summary>Indexes over the inputs that every direction and rule asks the same questions of.</summary>
    private sealed class Context
    {
        private readonly Dictionary<string, List<PodFacts>> _podsByNamespace;
        private readonly Dictionary<string, List<PodFacts>> _localPodsByNamespace;

        public Context(PolicyInputs inputs, string nodeName)
        {
            Inputs = inputs;
            NodeName = nodeName;
            _podsByNamespace = inputs.Pods.GroupBy(p => p.Namespace, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
            _localPodsByNamespace = inputs.Pods.Where(p => p.NodeName == nodeName).GroupBy(p => p.Namespace, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
            var present = inputs.Pods.SelectMany(p => p.Addresses).Select(a => IpFamilies.Of(a.AddressFamily))
                .Concat(inputs.Policies.SelectMany(p => p.IngressRules.Concat(p.EgressRules))
                    .SelectMany(r => r.Peers ?? []).OfType<BlockPeer>().Select(b => IpFamilies.Of(b.Cidr.Family)))
                .ToHashSet();
            Families = IpFamilies.All.Where(present.Contains).ToList();
        }

        public PolicyInputs Inputs { get; }

        public string NodeName { get; }

        /// <summary>The families any pod or ipBlock uses; rules and maps are made for these only.</summary>
        public IReadOnlyList<IpFamily> Families { get; }

        public IEnumerable<PodFacts> LocalPodsIn(string ns) => _localPodsByNamespace.TryGetValue(ns, out var pods) ? pods : [];

        /// <summary>Every address a rule's peer list names, as canonical ranges.</summary>
        public IReadOnlyList<AddressRange> PeerRanges(PolicyFacts policy, IReadOnlyList<PolicyPeer> peers)
        {
            var ranges = new List<AddressRange>();
            foreach (var peer in peers)
            {
                switch (peer)
                {
                    case BlockPeer block:
                        ranges.AddRange(AddressRanges.Subtract(AddressRange.Of(block.Cidr), block.Except.Select(AddressRange.Of)));
                        break;
                    case SelectorPeer selector:
                        foreach (var (ns, pods) in _podsByNamespace)
                        {
                            bool namespaceMatches = selector.Namespaces is null
                                ? ns == policy.Namespace
                                : selector.Namespaces.Matches(Inputs.LabelsOf(ns));
                            if (!namespaceMatches) continue;
                            foreach (var pod in pods)
                                if (selector.Pods is null || selector.Pods.Matches(pod.Labels))
                                    ranges.AddRange(pod.Addresses.Select(AddressRange.Of));
                        }
                        break;
                }
            }
            return AddressRanges.Union(ranges);
        }
    }
}
