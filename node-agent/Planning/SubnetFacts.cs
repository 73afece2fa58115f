using Trellis.Addressing;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using Trellis.Crds;

namespace Trellis.NodeAgent.Planning;

/// <summary>One block of a node and the gateway address the node's bridge holds in it.</summary>
/// <param name="Draining">In spec.draining: still routed and gatewayed, but closed to new pods (no longer in the conflist).</param>
public sealed record Block(Cidr Cidr, IPAddress Gateway, bool Draining = false)
{
    public IpPrefix GatewayPrefix => new(Gateway, Cidr.PrefixLength);
}

/// <param name="Bgp">The node's BGP sessions and settings, when its network announces over BGP.</param>
public sealed record RoutingPolicy(string Mode, int Vni, int Port, BgpFacts? Bgp = null)
{
    public bool SameAs(RoutingPolicy other) =>
        Mode == other.Mode && Vni == other.Vni && Port == other.Port
        && (Bgp is null ? other.Bgp is null : other.Bgp is not null && Bgp.Asn == other.Bgp.Asn && Bgp.Peers.SequenceEqual(other.Bgp.Peers));
}

/// <summary>routing.bgp of a NodeSubnet, checked: the node's AS and its own peers (the operator already applied their nodeSelectors).</summary>
public sealed record BgpFacts(uint Asn, IReadOnlyList<Trellis.Bgp.Speaker.BgpPeer> Peers);

/// <summary>A NodeSubnet checked and parsed once, so the planner works on typed values only.</summary>
public sealed record SubnetFacts(
    string Name,
    string NodeName,
    string PodNetwork,
    long Generation,
    IReadOnlyList<Block> Blocks,
    IReadOnlyList<IPAddress> NodeAddresses,
    IReadOnlyList<Cidr> NetworkCidrs,
    RoutingPolicy Routing,
    int Mtu,
    bool NatOutgoing)
{
    /// <summary>A node without an address keeps its blocks, but no peer can reach them: they are held, not routed.</summary>
    public bool Routable => NodeAddresses.Count > 0;

    /// <summary>Every fact equal, lists element by element (a record's own equality compares lists by reference).</summary>
    public bool SameAs(SubnetFacts other) =>
        Name == other.Name && NodeName == other.NodeName && PodNetwork == other.PodNetwork && Generation == other.Generation
        && Blocks.SequenceEqual(other.Blocks) && NodeAddresses.SequenceEqual(other.NodeAddresses) && NetworkCidrs.SequenceEqual(other.NetworkCidrs)
        && Routing.SameAs(other.Routing) && Mtu == other.Mtu && NatOutgoing == other.NatOutgoing;

    /// <summary>Parses a NodeSubnet, one parser per field; the error names the NodeSubnet and the field at fault.</summary>
    public static bool TryParse(NodeSubnet subnet, [NotNullWhen(true)] out SubnetFacts? facts, [NotNullWhen(false)] out string? error)
    {
        facts = null;
        var name = subnet.Metadata?.Name ?? "(unnamed)";
        var spec = subnet.Spec ?? new NodeSubnetSpec();
        string? fault = string.IsNullOrWhiteSpace(spec.NodeName) ? "spec.nodeName is empty" : null;
        var blocks = fault is null ? ParseBlocks(spec.Cidrs ?? [], spec.Gateways ?? [], spec.Draining ?? [], out fault) : null;
        var nodeAddresses = fault is null ? ParseNodeAddresses(spec.NodeAddresses ?? [], out fault) : null;
        var networkCidrs = fault is null ? ParseNetworkCidrs(spec.NetworkCidrs ?? [], out fault) : null;
        var routing = fault is null ? ParseRouting(spec.Routing ?? new RoutingSpec(), out fault) : null;
        if (fault is null && spec.Mtu != 0 && MtuBounds.Problem(spec.Mtu, blocks!.Any(block => block.Cidr.IsIPv6)) is { } mtuProblem)
            fault = $"spec.mtu: {mtuProblem}";
        if (fault is not null)
        {
            error = $"NodeSubnet {name}: {fault}";
            return false;
        }
        // Arrays of their exact length: the agent keeps these for every peer of the cluster, for as long as it runs.
        facts = new SubnetFacts(name, spec.NodeName, spec.PodNetwork ?? "", subnet.Metadata?.Generation ?? 0,
            [.. blocks!], [.. nodeAddresses!], [.. networkCidrs!], routing!, spec.Mtu, spec.NatOutgoing);
        error = null;
        return true;
    }

    /// <summary>spec.cidrs with spec.gateways (each block's gateway, by position; its first host when absent).</summary>
    private static List<Block>? ParseBlocks(IList<string> cidrs, IList<string> gateways, IList<string> draining, out string? fault)
    {
        var closing = new HashSet<Cidr>();
        for (int i = 0; i < draining.Count; i++)
        {
            if (!Cidr.TryParse(draining[i], out var block, out var drainingError))
            {
                fault = $"spec.draining[{i}]: {drainingError}";
                return null;
            }
            closing.Add(block);
        }
        var blocks = new List<Block>();
        for (int i = 0; i < cidrs.Count; i++)
        {
            if (!Cidr.TryParse(cidrs[i], out var cidr, out var cidrError))
            {
                fault = $"spec.cidrs[{i}]: {cidrError}";
                return null;
            }
            IPAddress? gateway;
            if (i < gateways.Count && !string.IsNullOrEmpty(gateways[i]))
            {
                if (!IPAddress.TryParse(gateways[i], out var parsed) || !cidr.Contains(parsed))
                {
                    fault = $"spec.gateways[{i}] \"{gateways[i]}\" is not an address inside {cidr}";
                    return null;
                }
                gateway = parsed;
            }
            else if (!BlockGateway.TryOf(cidr, out gateway))
            {
                fault = $"spec.cidrs[{i}] {cidr} has no room for a gateway";
                return null;
            }
            if (blocks.Any(b => b.Cidr.Overlaps(cidr)))
            {
                fault = $"spec.cidrs[{i}] {cidr} overlaps another block of the same node";
                return null;
            }
            blocks.Add(new Block(cidr, gateway, closing.Remove(cidr)));
        }
        if (closing.Count > 0)
        {
            fault = $"spec.draining lists {string.Join(", ", closing)}, not a block of spec.cidrs";
            return null;
        }
        foreach (var family in blocks.Select(b => b.Cidr.Family).Distinct())
            if (blocks.First(b => b.Cidr.Family == family) is { Draining: true } first)
            {
                fault = $"spec.draining lists {first.Cidr}, the node's first block of its family, which never goes";
                return null;
            }
        fault = null;
        return blocks;
    }

    private static List<IPAddress>? ParseNodeAddresses(IList<string> texts, out string? fault)
    {
        var addresses = new List<IPAddress>();
        foreach (var text in texts)
        {
            if (!IPAddress.TryParse(text, out var address) || text.Contains('/'))
            {
                fault = $"spec.nodeAddresses: \"{text}\" is not an IP address";
                return null;
            }
            addresses.Add(address);
        }
        fault = null;
        return addresses;
    }

    private static List<Cidr>? ParseNetworkCidrs(IList<string> texts, out string? fault)
    {
        var ranges = new List<Cidr>();
        foreach (var text in texts)
        {
            if (!Cidr.TryParse(text, out var cidr, out var cidrError))
            {
                fault = $"spec.networkCIDRs: {cidrError}";
                return null;
            }
            ranges.Add(cidr);
        }
        fault = null;
        return ranges;
    }

    private static RoutingPolicy? ParseRouting(RoutingSpec routing, out string? fault)
    {
        var mode = RoutingModes.All.FirstOrDefault(m => string.Equals(m, routing.Mode, StringComparison.OrdinalIgnoreCase));
        var vxlan = routing.Vxlan ?? new VxlanSpec();
        fault = mode is null ? $"spec.routing.mode \"{routing.Mode}\" is not one of {string.Join(", ", RoutingModes.All)}"
            : vxlan.Vni is < VxlanVni.Minimum or > VxlanVni.Maximum ? $"spec.routing.vxlan.vni {vxlan.Vni} is outside {VxlanVni.Minimum}..{VxlanVni.Maximum}"
            : vxlan.Port is < 1 or > 65_535 ? $"spec.routing.vxlan.port {vxlan.Port} is outside 1..65535"
            : null;
        BgpFacts? bgp = null;
        if (fault is null && routing.Bgp is { } bgpSpec && !TryParseBgp(bgpSpec, out bgp, out var bgpError)) fault = bgpError;
        if (fault is null && mode == RoutingModes.Bgp && bgp is null) fault = "spec.routing.mode is BGP but spec.routing.bgp is absent";
        return fault is null ? new RoutingPolicy(mode!, vxlan.Vni, vxlan.Port, bgp) : null;
    }

    private static bool TryParseBgp(BgpSpec spec, [NotNullWhen(true)] out BgpFacts? facts, [NotNullWhen(false)] out string? error)
    {
        facts = null;
        if (spec.Asn is < 1 or > uint.MaxValue)
        {
            error = $"spec.routing.bgp.asn {spec.Asn} is outside 1..{uint.MaxValue}";
            return false;
        }
        if (spec.HoldTime is not 0 and (< 3 or > 65_535))
        {
            error = $"spec.routing.bgp.holdTime {spec.HoldTime} must be 0 or within 3..65535";
            return false;
        }
        var gracefulRestart = spec.GracefulRestart ?? new GracefulRestartSpec();
        if (gracefulRestart.RestartTime is < 0 or > 4095)
        {
            error = $"spec.routing.bgp.gracefulRestart.restartTime {gracefulRestart.RestartTime} is outside 0..4095";
            return false;
        }
        var peers = new List<Trellis.Bgp.Speaker.BgpPeer>();
        var list = spec.Peers ?? [];
        for (int i = 0; i < list.Count; i++)
        {
            var peer = list[i];
            if (!IPAddress.TryParse(peer.Address, out var address) || peer.Address.Contains('/'))
            {
                error = $"spec.routing.bgp.peers[{i}].address \"{peer.Address}\" is not an IP address";
                return false;
            }
            if (peer.Asn is < 1 or > uint.MaxValue || peer.Port is < 1 or > 65_535)
            {
                error = $"spec.routing.bgp.peers[{i}] ({address}): AS {peer.Asn} or port {peer.Port} is out of range";
                return false;
            }
            if (peer.Password is { } password && (password.Length == 0 || System.Text.Encoding.UTF8.GetByteCount(password) > Trellis.Bgp.Speaker.TcpMd5.MaxKeyLength))
            {
                error = $"spec.routing.bgp.peers[{i}].password ({address}) must be 1..{Trellis.Bgp.Speaker.TcpMd5.MaxKeyLength} octets";
                return false;
            }
            if (peers.Any(p => p.Address.Equals(address)))
            {
                error = $"spec.routing.bgp.peers[{i}].address {address} is listed twice";
                return false;
            }
            peers.Add(new Trellis.Bgp.Speaker.BgpPeer(address, (uint)peer.Asn, (ushort)peer.Port, peer.Password,
                TimeSpan.FromSeconds(spec.HoldTime), gracefulRestart.Enabled ? TimeSpan.FromSeconds(gracefulRestart.RestartTime) : null));
        }
        facts = new BgpFacts((uint)spec.Asn, peers);
        error = null;
        return true;
    }

}
