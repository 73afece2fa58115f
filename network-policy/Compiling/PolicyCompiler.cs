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
/// times policies, and pod churn changes elements, not rules. Sets are named by what they mean
/// (the canonical text of a peer or port list), so rules that mean the same share one set.
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
        var problems = new List<string>(inputs.Problems);
        var egress = CompileDirection(context, PolicyDirection.Egress, problems);
        var ingress = CompileDirection(context, PolicyDirection.Ingress, problems);
        // Callees before callers, so a reader (and nft) meets every chain before a jump to it.
        var chains = egress.Chains.Concat(ingress.Chains).Append(egress.BaseChain).Append(ingress.BaseChain).ToList();
        var table = new PolicyTable(ObjectNames.Table, [.. egress.Counters, .. ingress.Counters], context.Sets.All(), chains);
        return new CompiledPolicies(table, [.. egress.Meanings, .. ingress.Meanings], problems);
    }

    private sealed record DirectionOutput(List<NftCounter> Counters, List<NftChain> Chains, List<PolicyCounter> Meanings, NftChain BaseChain);

    private static DirectionOutput CompileDirection(Context context, PolicyDirection direction, List<string> problems)
    {
        var counters = new List<NftCounter>();
        var chains = new List<NftChain>();
        var meanings = new List<PolicyCounter>();
        var groupsOfPods = new Dictionary<PodFacts, List<string>>(ReferenceEqualityComparer.Instance);
        foreach (var policy in context.Inputs.Policies)
        {
            if (!(direction == PolicyDirection.Ingress ? policy.AppliesToIngress : policy.AppliesToEgress)) continue;
            var targets = context.LocalPodsIn(policy.Namespace).Where(p => policy.PodSelector.Matches(p.Labels)).ToList();
            if (targets.Count == 0) continue;

            var id = ObjectNames.PolicyId(policy.Namespace, policy.Name);
            var chainName = ObjectNames.PolicyChain(direction, id);
            var counter = ObjectNames.DropCounter(direction, id);
            counters.Add(new NftCounter(counter, $"{direction} of NetworkPolicy {policy.Key}: packets of isolated pods no policy allowed"));
            meanings.Add(new PolicyCounter(counter, policy.Namespace, policy.Name, direction));
            var rules = direction == PolicyDirection.Ingress ? policy.IngressRules : policy.EgressRules;
            var chainRules = new List<NftRule>();
            for (int i = 0; i < rules.Count; i++)
                chainRules.AddRange(CompileRule(context, direction, policy, targets, rules[i], chainName, i));
            chains.Add(new NftChain(chainName, $"{direction} rules of NetworkPolicy {policy.Key}", null, chainRules));
            foreach (var target in targets)
            {
                if (!groupsOfPods.TryGetValue(target, out var group)) groupsOfPods[target] = group = [];
                group.Add(id);
            }
        }

        var groupChains = new Dictionary<string, NftChain>(StringComparer.Ordinal);
        var dispatch = context.Families.ToDictionary(f => f, _ => new SortedDictionary<string, DispatchElement>(StringComparer.Ordinal));
        foreach (var (pod, ids) in groupsOfPods.OrderBy(g => g.Key.Key, StringComparer.Ordinal))
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
        chains.AddRange(groupChains.OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => g.Value));

        var baseRules = new List<NftRule> { new AcceptEstablished() };
        if (context.Families.Contains(IpFamily.V6)) baseRules.Add(new AcceptNeighborDiscovery());
        var end = direction == PolicyDirection.Ingress ? PacketEnd.Destination : PacketEnd.Source;
        foreach (var family in context.Families)
        {
            var map = ObjectNames.DispatchMap(direction, family);
            context.Sets.Add(new NftSet(map, SetKind.Dispatch, family, dispatch[family].Values.ToList<NftElement>(),
                $"{direction} group of each isolated pod on this node"));
            baseRules.Add(new DispatchRule(family, end, map));
        }
        // The egress chain runs first; the order is not needed for correctness, only for reading.
        var hook = $"type filter hook forward priority filter{(direction == PolicyDirection.Egress ? " - 1" : "")}; policy accept;";
        var comment = direction == PolicyDirection.Ingress ? "NetworkPolicy ingress of pods on this node" : "NetworkPolicy egress of pods on this node";
        return new DirectionOutput(counters, chains, meanings, new NftChain(ObjectNames.BaseChain(direction), comment, hook, baseRules));
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
        IReadOnlyList<PodFacts> targets, PolicyRule rule, string chainName, int index)
    {
        var peerEnd = direction == PolicyDirection.Ingress ? PacketEnd.Source : PacketEnd.Destination;
        var peers = rule.Peers is null ? null : context.Peers(policy, rule.Peers);
        IEnumerable<PeerMatch?> PeerMatches() => peers is null
            ? [null]
            : context.Families.Select(f => (PeerMatch?)new PeerMatch(f, peerEnd, context.PeerSet(peers, f)));

        if (rule.Ports is null)
        {
            foreach (var peer in PeerMatches()) yield return new AllowRule(peer, null, null);
            yield break;
        }

        var numbered = rule.Ports.Where(p => !p.IsNamed).ToList();
        if (numbered.Count > 0)
        {
            var portSet = context.PortSet(numbered);
            foreach (var peer in PeerMatches()) yield return new AllowRule(peer, portSet, null);
        }

        var named = rule.Ports.Where(p => p.IsNamed).ToList();
        if (named.Count == 0) yield break;
        foreach (var family in context.Families)
        {
            if (direction == PolicyDirection.Egress)
            {
                // The set holds only destinations the rule allows, so it needs no peer match of its own.
                yield return new AllowRule(null, null, (family, context.EgressNamedPortSet(peers, named, family)));
                continue;
            }
            // A name is resolved on each destination pod, here the policy's own targets; a name a pod
            // does not declare matches nothing on it.
            var name = ObjectNames.IngressNamedPortSet(chainName, index, family);
            var af = family.AddressFamily();
            var elements = targets.SelectMany(t => t.Addresses.Where(a => a.AddressFamily == af)
                    .SelectMany(a => named.Select(p => t.Resolve(p.Name!, p.Protocol) is { } number ? new NamedPortElement(a, p.Protocol, number) : null)))
                .OfType<NamedPortElement>().Distinct().OrderBy(e => e.ToString(), StringComparer.Ordinal).ToList<NftElement>();
            context.Sets.Add(new NftSet(name, SetKind.NamedPorts, family, elements, $"ports {Describe(named)} on the pods of {policy.Key}"));
            yield return new AllowRule(peers is null ? null : new PeerMatch(family, peerEnd, context.PeerSet(peers, family)), null, (family, name));
        }
    }

    private static string Describe(IEnumerable<PolicyPort> ports) =>
        string.Join(" ", ports.Select(p => p.IsNamed ? $"{p.Protocol.NftName()}/{p.Name}" : $"{p.Protocol.NftName()}/{p.First}-{p.Last}").Distinct().Order(StringComparer.Ordinal));

    /// <summary>A peer list resolved for one policy: its canonical meaning and the addresses it names.</summary>
    private sealed record ResolvedPeers(string Meaning, IReadOnlyList<AddressRange> Ranges);

    /// <summary>Sets by name; one added twice (a shared set) must be the same both times.</summary>
    private sealed class SetCatalog
    {
        private readonly Dictionary<string, NftSet> _sets = new(StringComparer.Ordinal);

        public bool Contains(string name) => _sets.ContainsKey(name);

        public void Add(NftSet set) => _sets.TryAdd(set.Name, set);

        public IReadOnlyList<NftSet> All() => _sets.Values.OrderBy(s => s.Name, StringComparer.Ordinal).ToList();
    }

    /// <summary>Indexes over the inputs, and the sets, which rules of every policy and direction share.</summary>
    private sealed class Context
    {
        private readonly Dictionary<string, List<PodFacts>> _podsByNamespace;
        private readonly Dictionary<string, List<PodFacts>> _localPodsByNamespace;
        private readonly Dictionary<string, ResolvedPeers> _peers = new(StringComparer.Ordinal);

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

        public SetCatalog Sets { get; } = new();

        /// <summary>The families any pod or ipBlock uses; rules and maps are made for these only.</summary>
        public IReadOnlyList<IpFamily> Families { get; }

        public IEnumerable<PodFacts> LocalPodsIn(string ns) => _localPodsByNamespace.TryGetValue(ns, out var pods) ? pods : [];

        /// <summary>A peer list's meaning (pods of the policy's own namespace become that namespace by name) and addresses.</summary>
        public ResolvedPeers Peers(PolicyFacts policy, IReadOnlyList<PolicyPeer> peers)
        {
            var meaning = string.Join("; ", peers.Select(p => Meaning(policy, p)).Distinct().Order(StringComparer.Ordinal));
            if (_peers.TryGetValue(meaning, out var known)) return known;
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
            return _peers[meaning] = new ResolvedPeers(meaning, AddressRanges.Union(ranges));
        }

        private static string Meaning(PolicyFacts policy, PolicyPeer peer) => peer switch
        {
            BlockPeer block => $"{block.Cidr}{(block.Except.Count == 0 ? "" : $" except {string.Join(" ", block.Except.Order())}")}",
            SelectorPeer selector => $"pods with ({selector.Pods?.Canonical ?? "everything"}) in " +
                (selector.Namespaces is null ? $"namespace {policy.Namespace}" : $"namespaces with ({selector.Namespaces.Canonical})"),
            _ => throw new ArgumentOutOfRangeException(nameof(peer)),
        };

        public string PeerSet(ResolvedPeers peers, IpFamily family)
        {
            var name = ObjectNames.PeerSet(peers.Meaning, family);
            if (!Sets.Contains(name))
            {
                var af = family.AddressFamily();
                Sets.Add(new NftSet(name, SetKind.Addresses, family,
                    peers.Ranges.Where(r => r.Family == af).Select(r => (NftElement)new AddressElement(r)).ToList(), peers.Meaning));
            }
            return name;
        }

        public string PortSet(IReadOnlyList<PolicyPort> numbered)
        {
            var meaning = Describe(numbered);
            var name = ObjectNames.PortSet(meaning);
            if (!Sets.Contains(name)) Sets.Add(new NftSet(name, SetKind.Ports, IpFamily.V4, MergePorts(numbered), meaning));
            return name;
        }

        /// <summary>
        /// Every (address, protocol, port) that <paramref name="named"/> resolves to on a pod the peers
        /// allow (every pod when the rule names no peers).
        /// </summary>
        public string EgressNamedPortSet(ResolvedPeers? peers, IReadOnlyList<PolicyPort> named, IpFamily family)
        {
            var meaning = $"ports {Describe(named)} of {peers?.Meaning ?? "every pod"}";
            var name = ObjectNames.EgressNamedPortSet(meaning, family);
            if (Sets.Contains(name)) return name;
            var af = family.AddressFamily();
            var elements = new HashSet<NamedPortElement>();
            foreach (var pod in Inputs.Pods)
                foreach (var address in pod.Addresses)
                {
                    if (address.AddressFamily != af || (peers is not null && !Contains(peers.Ranges, address))) continue;
                    foreach (var port in named)
                        if (pod.Resolve(port.Name!, port.Protocol) is { } number)
                            elements.Add(new NamedPortElement(address, port.Protocol, number));
                }
            Sets.Add(new NftSet(name, SetKind.NamedPorts, family, elements.OrderBy(e => e.ToString(), StringComparer.Ordinal).ToList<NftElement>(), meaning));
            return name;
        }

        /// <summary>Binary search over canonical (sorted, disjoint) ranges.</summary>
        private static bool Contains(IReadOnlyList<AddressRange> ranges, System.Net.IPAddress address)
        {
            var point = AddressRange.Of(address);
            int low = 0, high = ranges.Count - 1;
            while (low <= high)
            {
                int middle = (low + high) / 2;
                var range = ranges[middle];
                int byFamily = range.Family.CompareTo(point.Family);
                if (byFamily == 0 && range.First <= point.First && point.First <= range.Last) return true;
                if (byFamily < 0 || (byFamily == 0 && range.Last < point.First)) low = middle + 1;
                else high = middle - 1;
            }
            return false;
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
}
