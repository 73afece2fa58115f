using System.Net;
using System.Net.Sockets;
using Trellis.Addressing;
using Trellis.Crds;

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
        // Every peer block of every PodNetwork is routed, whether or not this node is in that network (a pod of any
        // network must reach a pod of any other), each with the routing policy of the peer's own NodeSubnet.
        // peersRouted counts peer nodes, not NodeSubnets: a node is counted once when it has a block and every one of
        // its blocks, of whichever network, is routed; each own NodeSubnet reports that same count.
        var peerNodes = new Dictionary<string, (bool HasBlock, bool AllRouted)>(StringComparer.Ordinal);
        bool anyVxlanMode = view.Own.Any(s => s.Routing.Mode == RoutingModes.Vxlan);

        // The node has one vxlan device, trellis.vxlan, shared by every network (so the default, one VNI and port for
        // all, works as before). Its VNI and port come from the first own NodeSubnet (by name) that is not Direct,
        // else from the first peer NodeSubnet routed over VXLAN. A NodeSubnet asking for another VNI or port is refused
        // with a problem naming both NodeSubnets (its blocks are not routed, and the status says why): simpler than one
        // device per (VNI, port), at the price that networks needing VXLAN on the same node must share a VNI and port.
        SubnetFacts? vxlanOwner = view.Own.FirstOrDefault(s => s.Routing.Mode is not (RoutingModes.Direct or RoutingModes.Bgp));
        if (vxlanOwner is not null)
            foreach (var own in view.Own.Where(s => s.Routing.Mode is not (RoutingModes.Direct or RoutingModes.Bgp) && !SameVxlan(s, vxlanOwner)))
                problems.Add(VxlanConflict(own, vxlanOwner));

        foreach (var peer in view.Peers.Where(p => p.NodeName != view.NodeName))
        {
            var peerUnderlay = peer.NodeAddresses.FirstOrDefault(a => a.AddressFamily == underlayFamily);
            bool sameSegment = peerUnderlay is not null && underlayNetwork.Contains(peerUnderlay);
            bool routedAll = true;
            foreach (var block in peer.Blocks)
            {
                if (claimed.FindOverlap(block.Cidr) is { } clash)
                {
                    problems.Add($"NodeSubnet {peer.Name}: block {block.Cidr} overlaps {clash.Cidr} of {clash.Owner}; not routed");
                    routedAll = false;
                    continue;
                }
                if (peer.Routing.Mode == RoutingModes.Bgp)
                {
                    // The routers the peer announces this block to are this node's default gateway: no route here.
                    claimed.Claim(block.Cidr, $"NodeSubnet {peer.Name}");
                    continue;
                }
                var direct = DirectGateway(peer, block, underlay);
                bool useVxlan = peer.Routing.Mode switch
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
                    vxlanOwner ??= peer;
                    if (!SameVxlan(peer, vxlanOwner))
                    {
                        problems.Add(VxlanConflict(peer, vxlanOwner) + $"; block {block.Cidr} not routed");
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
            var soFar = peerNodes.GetValueOrDefault(peer.NodeName, (HasBlock: false, AllRouted: true));
            peerNodes[peer.NodeName] = (soFar.HasBlock || peer.Blocks.Count > 0, soFar.AllRouted && routedAll);
        }
        int routedPeers = peerNodes.Values.Count(p => p.HasBlock && p.AllRouted);
        var peersRouted = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var own in view.Own) peersRouted.TryAdd(own.PodNetwork, routedPeers);

        bool vxlanInUse = anyVxlanMode || routes.Any(r => r.Link == RouteLink.Vxlan);
        int overhead = VxlanOverhead(underlayFamily);
        int explicitMtu = view.Own.Select(s => s.Mtu).FirstOrDefault(m => m > 0);
        int podMtu = explicitMtu > 0 ? explicitMtu : vxlanInUse ? underlay.Mtu - overhead : underlay.Mtu;

        VxlanDevice? vxlan = null;
        var vtepAddresses = new List<IpPrefix>();
        if (vxlanInUse)
        {
            var policy = (vxlanOwner ?? view.Own[0]).Routing;
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
    public static IReadOnlyList<Cidr> Collapse(IEnumerable<Cidr> cidrs)
    {
        var sorted = cidrs.Distinct().OrderBy(c => c.Family).ThenBy(c => c.PrefixLength).ToList();
        var kept = new List<Cidr>();
        foreach (var cidr in sorted)
            if (!kept.Any(k => k.Contains(cidr))) kept.Add(cidr);
        kept.Sort();
        return kept;
    }

    private static bool SameVxlan(SubnetFacts a, SubnetFacts b) => a.Routing.Vni == b.Routing.Vni && a.Routing.Port == b.Routing.Port;

    private static string VxlanConflict(SubnetFacts refused, SubnetFacts owner) =>
        $"NodeSubnet {refused.Name}: VXLAN VNI {refused.Routing.Vni} port {refused.Routing.Port} conflicts with VNI {owner.Routing.Vni} " +
        $"port {owner.Routing.Port} of NodeSubnet {owner.Name}, which this node's one vxlan device {AgentSettings.VxlanDeviceName} uses";

    private static string FamilyName(AddressFamily family) => family == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4";
}
