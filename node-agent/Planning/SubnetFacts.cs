using Trellis.Addressing;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using Trellis.Crds;

namespace Trellis.NodeAgent.Planning;

/// <summary>One block of a node and the gateway address the node's bridge holds in it.</summary>
public sealed record Block(Cidr Cidr, IPAddress Gateway)
{
    public Trellis.Addressing.IpPrefix GatewayPrefix => new(Gateway, Cidr.PrefixLength);
}

/// <param name="Bgp">The node's BGP sessions and settings, when its network announces over BGP.</param>
public sealed record RoutingPolicy(string Mode, int Vni, int Port, BgpFacts? Bgp = null);

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
    /// <summary>Parses a NodeSubnet; the error names the NodeSubnet and the field at fault.</summary>
    public static bool TryParse(NodeSubnet subnet, [NotNullWhen(true)] out SubnetFacts? facts, [NotNullWhen(false)] out string? error)
    {
        facts = null;
        var name = subnet.Metadata?.Name ?? "(unnamed)";
        var spec = subnet.Spec ?? new NodeSubnetSpec();
        string Fail(string what) => $"NodeSubnet {name}: {what}";

        if (string.IsNullOrWhiteSpace(spec.NodeName))
        {
            error = Fail("spec.nodeName is empty");
            return false;
        }

        var blocks = new List<Block>();
        var cidrs = spec.Cidrs ?? [];
        var gateways = spec.Gateways ?? [];
        for (int i = 0; i < cidrs.Count; i++)
        {
            if (!Cidr.TryParse(cidrs[i], out var cidr, out var cidrError))
            {
                error = Fail($"spec.cidrs[{i}]: {cidrError}");
                return false;
            }
            IPAddress gateway;
            if (i < gateways.Count && !string.IsNullOrEmpty(gateways[i]))
            {
                if (!IPAddress.TryParse(gateways[i], out var parsed) || !cidr.Contains(parsed))
                {
                    error = Fail($"spec.gateways[{i}] \"{gateways[i]}\" is not an address inside {cidr}");
                    return false;
                }
                gateway = parsed;
            }
            else
            {
                if (cidr.Size < 2)
                {
                    error = Fail($"spec.cidrs[{i}] {cidr} has no room for a gateway");
                    return false;
                }
                gateway = cidr.AddressAt(1);
            }
            if (blocks.Any(b => b.Cidr.Overlaps(cidr)))
            {
                error = Fail($"spec.cidrs[{i}] {cidr} overlaps another block of the same node");
                return false;
            }
            blocks.Add(new Block(cidr, gateway));
        }

        var nodeAddresses = new List<IPAddress>();
        foreach (var text in spec.NodeAddresses ?? [])
        {
            if (!IPAddress.TryParse(text, out var address) || text.Contains('/'))
            {
                error = Fail($"spec.nodeAddresses: \"{text}\" is not an IP address");
                return false;
            }
            nodeAddresses.Add(address);
        }

        var networkCidrs = new List<Cidr>();
        foreach (var text in spec.NetworkCidrs ?? [])
        {
            if (!Cidr.TryParse(text, out var cidr, out var cidrError))
            {
                error = Fail($"spec.networkCIDRs: {cidrError}");
                return false;
            }
            networkCidrs.Add(cidr);
        }

        var routing = spec.Routing ?? new RoutingSpec();
        var mode = RoutingModes.All.FirstOrDefault(m => string.Equals(m, routing.Mode, StringComparison.OrdinalIgnoreCase));
        if (mode is null)
        {
            error = Fail($"spec.routing.mode \"{routing.Mode}\" is not one of {string.Join(", ", RoutingModes.All)}");
            return false;
        }
        var vxlan = routing.Vxlan ?? new VxlanSpec();
        if (vxlan.Vni is < 1 or > 16_777_215)
        {
            error = Fail($"spec.routing.vxlan.vni {vxlan.Vni} is outside 1..16777215");
            return false;
        }
        if (vxlan.Port is < 1 or > 65_535)
        {
            error = Fail($"spec.routing.vxlan.port {vxlan.Port} is outside 1..65535");
            return false;
        }
        BgpFacts? bgp = null;
        if (routing.Bgp is { } bgpSpec && !TryParseBgp(bgpSpec, out bgp, out var bgpError))
        {
            error = Fail(bgpError);
            return false;
        }
        if (mode == RoutingModes.Bgp && bgp is null)
        {
            error = Fail("spec.routing.mode is BGP but spec.routing.bgp is absent");
            return false;
        }
        if (spec.Mtu is < 0 or > 65_535)
        {
            error = Fail($"spec.mtu {spec.Mtu} is outside 0..65535");
            return false;
        }

        facts = new SubnetFacts(name, spec.NodeName, spec.PodNetwork ?? "", subnet.Metadata?.Generation ?? 0,
            blocks, nodeAddresses, networkCidrs, new RoutingPolicy(mode, vxlan.Vni, vxlan.Port, bgp), spec.Mtu, spec.NatOutgoing);
        error = null;
        return true;
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
