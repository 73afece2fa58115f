using System.Net;
using System.Net.Sockets;
using Trellis.Cidr;
using Trellis.Crds;
using CidrBlock = Trellis.Cidr.Cidr;

namespace Trellis.NodeAgent.Planning;

/// <summary>
/// Turns the cluster's NodeSubnets and the node's underlay facts into the state the node
/// should hold. Pure: the same inputs always give the same plan, in the same order.
/// </summary>
public static class NodePlanner
{
    /// <summary>Bytes VXLAN adds: outer Ethernet 14 + IPv4 20 (IPv6 40) + UDP 8 + VXLAN 8.</summary>
    public static int VxlanOverhead(AddressFamily underlayFamily) => underlayFamily == AddressFamily.InterNetworkV6 ? 70 : 50;

    public static NodePlan Plan(ClusterView view, UnderlayFacts underlay, AgentSettings settings)
    {
        var problems = new List<string>(view.Problems);
        var ownBlocks = view.Own.SelectMany(s => s.Blocks).ToList();
        var underlayFamily = underlay.Address.Address.AddressFamily;
        var underlayNetwork = underlay.Address.Network;
        var localMac = MacAddress.ForVtep(underlay.Address.Address);

        var routes = new List<PlannedRoute>();
        var fdb = new Dictionary<MacAddress, PlannedFdb>();
        var neighbors = new Dictionary<IPAddress, PlannedNeighbor>();
        var claimed = new BlockClaims();
        foreach (var block in ownBlocks) claimed.Claim(block.Cidr, $"this node ({view.NodeName})");
        var peersRouted = new Dictionary<string, int>(StringComparer.Ordinal);
        bool anyVxlanMode = false;

        foreach (var own in view.Own)
        {
            peersRouted.TryAdd(own.PodNetwork, 0);
            if (own.Routing.Mode == RoutingModes.Vxlan) anyVxlanMode = true;
            foreach (var peer in view.Peers.Where(p => p.PodNetwork == own.PodNetwork && p.NodeName != view.NodeName))
            {
                var peerUnderlay = peer.NodeAddresses.FirstOrDefault(a => a.AddressFamily == underlayFamily);
                bool sameSegment = peerUnderlay is not null && underlayNetwork.Contains(peerUnderlay);
                bool routedAll = peer.Blocks.Count > 0;
                foreach (var block in peer.Blocks)
                {
                    if (claimed.FindOverlap(block.Cidr) is { } clash)
                    {
                        problems.Add($"NodeSubnet {peer.Name}: block {block.Cidr} overlaps {clash.Cidr} of {clash.Owner}; not routed");
                        routedAll = false;
                        continue;
                    }
                    var direct = DirectGateway(peer, block, underlay);
                    bool useVxlan = own.Routing.Mode switch
                    {
                        RoutingModes.Vxlan => true,
                        RoutingModes.Direct => false,
                        _ => !(sameSegment && direct is not null),
                    };
                    if (!useVxlan)
                    {
                        if (direct is null)
                        {
                            problems.Add($"NodeSubnet {peer.Name}: no node address of {FamilyName(block.Cidr.Family)} on the underlay subnet " +
                                $"{underlay.AddressOf(block.Cidr.Family)?.Network.ToString() ?? "(none)"} for block {block.Cidr}; Direct mode needs peers on one L2 segment");
                            routedAll = false;
                            continue;
                        }
                        routes.Add(new PlannedRoute(block.Cidr, direct, RouteLink.Underlay));
                    }
                    else
                    {
                        if (peerUnderlay is null)
                        {
                            problems.Add($"NodeSubnet {peer.Name}: no {FamilyName(underlayFamily)} node address to reach over VXLAN for block {block.Cidr}");
                            routedAll = false;
                            continue;
                        }
                        var peerMac = MacAddress.ForVtep(peerUnderlay);
                        var vtep = block.Cidr.Network;
                        fdb.TryAdd(peerMac, new PlannedFdb(peerMac, peerUnderlay));
                        neighbors[vtep] = new PlannedNeighbor(vtep, peerMac);
                        routes.Add(new PlannedRoute(block.Cidr, vtep, RouteLink.Vxlan));
                    }
                    claimed.Claim(block.Cidr, $"NodeSubnet {peer.Name}");
                }
                if (routedAll) peersRouted[own.PodNetwork]++;
            }
        }

        bool vxlanInUse = anyVxlanMode || routes.Any(r => r.Link == RouteLink.Vxlan);
        int overhead = VxlanOverhead(underlayFamily);
        int explicitMtu = view.Own.Select(s => s.Mtu).FirstOrDefault(m => m > 0);
        int podMtu = explicitMtu > 0 ? explicitMtu : vxlanInUse ? underlay.Mtu - overhead : underlay.Mtu;

        VxlanDevice? vxlan = null;
        var vtepAddresses = new List<IpPrefix>();
        if (vxlanInUse)
        {
            // The first own NodeSubnet (by name) that asks for VXLAN decides the VNI and port; one device serves all.
            var policy = (view.Own.FirstOrDefault(s => s.Routing.Mode != RoutingModes.Direct) ?? view.Own[0]).Routing;
            vxlan = new VxlanDevice(AgentSettings.VxlanDeviceName, policy.Vni, policy.Port, underlay.Address.Address,
                underlay.LinkIndex, underlay.Mtu - overhead, localMac);
            vtepAddresses.AddRange(ownBlocks.Select(b => new IpPrefix(b.Cidr.Network, b.Cidr.AddressBits)));
        }

        var rangeSets = ownBlocks.GroupBy(b => b.Cidr.Family).OrderBy(g => g.Key)
            .Select(g => (IReadOnlyList<Block>)g.ToList()).ToList();

        MasqueradePlan? masquerade = null;
        if (view.Own.Any(s => s.NatOutgoing) && ownBlocks.Count > 0)
        {
            var everyRange = view.Own.Concat(view.Peers)
                .SelectMany(s => s.NetworkCidrs.Concat(s.Blocks.Select(b => b.Cidr)));
            masquerade = new MasqueradePlan(Collapse(ownBlocks.Select(b => b.Cidr)), Collapse(everyRange));
        }

        return new NodePlan(
            new BridgeDevice(settings.BridgeName, podMtu),
            ownBlocks.Select(b => b.GatewayPrefix).ToList(),
            ForwardIPv4: ownBlocks.Any(b => b.Cidr.IsIPv4),
            ForwardIPv6: ownBlocks.Any(b => b.Cidr.IsIPv6),
            vxlan,
            vtepAddresses,
            routes.OrderBy(r => r.Destination).ToList(),
            fdb.Values.OrderBy(f => f.Mac.Value).ToList(),
            neighbors.Values.OrderBy(n => n.Address.AddressFamily).ThenBy(n => IpAddressMath.ToUInt128(n.Address)).ToList(),
            podMtu,
            new CniPlan(settings.BridgeName, podMtu, rangeSets, settings.IpamDataDirectory),
            masquerade,
            peersRouted,
            problems);
    }

    /// <summary>The peer's underlay address for <paramref name="block"/>'s family, when it is on this node's underlay subnet.</summary>
    private static IPAddress? DirectGateway(SubnetFacts peer, Block block, UnderlayFacts underlay)
    {
        var local = underlay.AddressOf(block.Cidr.Family);
        if (local is null) return null;
        return peer.NodeAddresses.FirstOrDefault(a => a.AddressFamily == block.Cidr.Family && local.Value.Network.Contains(a));
    }

    /// <summary>Sorted, with every range that lies inside another dropped.</summary>
    public static IReadOnlyList<CidrBlock> Collapse(IEnumerable<CidrBlock> cidrs)
    {
        var sorted = cidrs.Distinct().OrderBy(c => c.Family).ThenBy(c => c.PrefixLength).ToList();
        var kept = new List<CidrBlock>();
        foreach (var cidr in sorted)
            if (!kept.Any(k => k.Contains(cidr))) kept.Add(cidr);
        kept.Sort();
        return kept;
    }

    private static string FamilyName(AddressFamily family) => family == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4";
}
