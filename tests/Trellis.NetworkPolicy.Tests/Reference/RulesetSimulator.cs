using System.Net;
using Trellis.NetworkPolicy.Facts;
using Trellis.NetworkPolicy.Ruleset;

namespace Trellis.NetworkPolicy.Tests.Reference;

/// <summary>A packet as the forward hook sees it; a null protocol stands for one without ports (ICMP).</summary>
public sealed record Packet(IPAddress Source, IPAddress Destination, TransportProtocol? Protocol, int Port, bool Established = false);

/// <summary>
/// Runs a compiled <see cref="PolicyTable"/> on a packet the way netfilter runs the table's base
/// chains: in priority order, accept ending only the chain it is in, drop ending everything,
/// jump returning when the called chain runs out of rules. It lets thousands of generated
/// policies be checked against the reference evaluator without a kernel; the kernel tests check
/// that nftables agrees with this reading of the rendered rules.
/// </summary>
public sealed class RulesetSimulator
{
    private enum Verdict { Continue, Accept, Drop }

    private readonly Dictionary<string, NftChain> _chains;
    private readonly Dictionary<string, NftSet> _sets;
    private readonly List<NftChain> _baseChains;

    public RulesetSimulator(PolicyTable table)
    {
        _chains = table.Chains.ToDictionary(c => c.Name, StringComparer.Ordinal);
        _sets = table.Sets.ToDictionary(s => s.Name, StringComparer.Ordinal);
        _baseChains = table.Chains.Where(c => c.Hook is not null).OrderBy(c => Priority(c.Hook!)).ToList();
    }

    /// <summary>Whether the packet survives every base chain; <paramref name="counted"/> collects the counters it hits.</summary>
    public bool Accepts(Packet packet, ICollection<string>? counted = null)
    {
        foreach (var chain in _baseChains)
            if (Run(chain, packet, counted, depth: 0) == Verdict.Drop) return false;
        return true;
    }

    private Verdict Run(NftChain chain, Packet packet, ICollection<string>? counted, int depth)
    {
        if (depth > 16) throw new InvalidOperationException($"chain {chain.Name}: jumps nest deeper than nftables allows");
        foreach (var rule in chain.Rules)
        {
            Verdict verdict = Verdict.Continue;
            switch (rule)
            {
                case AcceptEstablished:
                    if (packet.Established) return Verdict.Accept;
                    break;
                case AcceptNeighborDiscovery:
                    break;
                case DispatchRule dispatch:
                    if (FamilyOf(packet) != dispatch.Family) break;
                    var address = dispatch.End == PacketEnd.Source ? packet.Source : packet.Destination;
                    var target = Set(dispatch.Map).Elements.OfType<DispatchElement>().FirstOrDefault(e => e.Address.Equals(address));
                    if (target is not null) verdict = Run(Chain(target.Chain), packet, counted, depth + 1);
                    break;
                case JumpRule jump:
                    verdict = Run(Chain(jump.Chain), packet, counted, depth + 1);
                    break;
                case CountRule count:
                    foreach (var name in count.Counters) counted?.Add(name);
                    if (count.Drop) return Verdict.Drop;
                    break;
                case AllowRule allow:
                    if (Matches(allow, packet)) return Verdict.Accept;
                    break;
                default:
                    throw new InvalidOperationException($"the simulator does not know {rule.GetType().Name}");
            }
            if (verdict != Verdict.Continue) return verdict;
        }
        return Verdict.Continue;
    }

    private bool Matches(AllowRule allow, Packet packet)
    {
        if (allow.Peer is { } peer)
        {
            if (FamilyOf(packet) != peer.Family) return false;
            var address = peer.End == PacketEnd.Source ? packet.Source : packet.Destination;
            if (!Set(peer.Set).Elements.OfType<AddressElement>().Any(e => e.Range.Contains(address))) return false;
        }
        if (allow.PortSet is { } ports)
        {
            if (packet.Protocol is not { } protocol) return false;
            if (!Set(ports).Elements.OfType<PortElement>().Any(e => e.Protocol == protocol && packet.Port >= e.First && packet.Port <= e.Last)) return false;
        }
        if (allow.NamedPorts is { } named)
        {
            if (FamilyOf(packet) != named.Family || packet.Protocol is not { } protocol) return false;
            if (!Set(named.Set).Elements.OfType<NamedPortElement>().Any(e => e.Address.Equals(packet.Destination) && e.Protocol == protocol && e.Port == packet.Port)) return false;
        }
        return true;
    }

    private NftChain Chain(string name) =>
        _chains.TryGetValue(name, out var chain) ? chain : throw new InvalidOperationException($"jump to missing chain {name}");

    private NftSet Set(string name) =>
        _sets.TryGetValue(name, out var set) ? set : throw new InvalidOperationException($"reference to missing set {name}");

    private static IpFamily FamilyOf(Packet packet) => IpFamilies.Of(packet.Source.AddressFamily);

    private static int Priority(string hook)
    {
        var text = hook[(hook.IndexOf("priority filter", StringComparison.Ordinal) + "priority filter".Length)..].Split(';')[0].Replace(" ", "", StringComparison.Ordinal);
        return text.Length == 0 ? 0 : int.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
    }
}
