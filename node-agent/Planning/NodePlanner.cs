using System.Net;
using System.Net.Sockets;
using Trellis.Addressing;
using Trellis.Crds;

namespace Trellis.NodeAgent.Planning;

/// <summary>
/// Turns the cluster's NodeSubnets and the node's underlay facts into the state the node
/// should hold. Pure: the same inputs always give the same plan, in the same order. One step
/// per concern: guard the blocks, choose the VXLAN policy, route the peers, size the MTU,
/// describe the VXLAN device, masquerade.
/// </summary>
public static class NodePlanner
{
    /// <summary>Bytes VXLAN adds: outer Ethernet 14 + IPv4 20 (IPv6 40) + UDP 8 + VXLAN 8.</summary>
    public static int VxlanOverhead(AddressFamily underlayFamily) => underlayFamily == AddressFamily.InterNetworkV6 ? 70 : 50;

    /// <param name="guard">What no block may touch on this node (its addresses, the API server, special ranges).</param>
    public static NodePlan Plan(OwnAndPeerSubnets view, UnderlayFacts underlay, ProtectedSpace guard, AgentSettings settings)
    {
        var problems = new List<string>(view.Problems);
        var refusals = new List<BlockRefusal>();
        var own = GuardOwnBlocks(view.Own, guard, refusals);
        var ownBlocks = own.SelectMany(s => s.Blocks).ToList();

        var vxlanOwner = ChooseVxlanOwner(own, problems);
        var peers = RoutePeers(view with { Own = own }, underlay, guard, vxlanOwner, problems, refusals);

        bool vxlanInUse = own.Any(s => s.Routing.Mode == RoutingModes.Vxlan) || peers.Routes.Any(r => r.Link == RouteLink.Vxlan);
        var underlayFamily = underlay.Address.Address.AddressFamily;
        int podMtu = PodMtu(own, underlay, vxlanInUse);
        var vxlan = vxlanInUse ? VxlanDeviceFor(peers.VxlanOwner ?? own.FirstOrDefault() ?? view.Own[0], underlay) : null;
        var vtepAddresses = vxlanInUse ? ownBlocks.Select(b => new IpPrefix(b.Cidr.Network, b.Cidr.AddressBits)).ToList() : [];
        // A draining block takes no new pod: the conflist leaves it out (the store refuses it too, for runtimes that cache the conflist).
        var rangeSets = ownBlocks.Where(b => !b.Draining).GroupBy(b => b.Cidr.Family).OrderBy(g => g.Key)
            .Select(g => (IReadOnlyList<Block>)g.ToList()).ToList();

        return new NodePlan(
            new BridgeDevice(settings.BridgeName, podMtu),
            ownBlocks.Select(b => b.GatewayPrefix).ToList(),
            ForwardIPv4: ownBlocks.Any(b => b.Cidr.IsIPv4),
            ForwardIPv6: ownBlocks.Any(b => b.Cidr.IsIPv6),
            vxlan,
            vtepAddresses,
            peers.Routes.OrderBy(r => r.Destination).ToList(),
            peers.Fdb.OrderBy(f => f.Mac.Value).ToList(),
            peers.Neighbors.OrderBy(n => n.Address.AddressFamily).ThenBy(n => IpAddressMath.ToUInt128(n.Address)).ToList(),
            podMtu,
            new CniPlan(settings.BridgeName, podMtu, rangeSets, settings.IpamDataDirectory),
            Masquerade(own, view.Peers, ownBlocks),
            view.Own.Select(s => s.PodNetwork).Distinct().ToDictionary(network => network, _ => peers.RoutedNodes, StringComparer.Ordinal),
            problems)
        {
            Refusals = refusals,
        };
    }

    /// <summary>This node's own NodeSubnets without the blocks it must refuse: those never reach its bridge, its conflist or its VTEP.</summary>
    private static IReadOnlyList<SubnetFacts> GuardOwnBlocks(IReadOnlyList<SubnetFacts> own, ProtectedSpace guard, List<BlockRefusal> refusals)
    {
        var kept = new List<SubnetFacts>(own.Count);
        foreach (var subnet in own)
        {
            var safe = new List<Block>(subnet.Blocks.Count);
            foreach (var block in subnet.Blocks)
            {
                if (guard.Refusal(block.Cidr) is { } reason) refusals.Add(new BlockRefusal(subnet.Name, Own: true, block.Cidr, reason));
                else safe.Add(block);
            }
            kept.Add(safe.Count == subnet.Blocks.Count ? subnet : subnet with { Blocks = safe });
        }
        return kept;
    }

    /// <summary>
    /// The node has one vxlan device, trellis.vxlan, shared by every network (so the default, one VNI and port for
    /// all, works as before). Its VNI and port come from the first own NodeSubnet (by name) that is not Direct,
    /// else from the first peer NodeSubnet routed over VXLAN. A NodeSubnet asking for another VNI or port is refused
    /// with a problem naming both NodeSubnets (its blocks are not routed, and the status says why): simpler than one
    /// device per (VNI, port), at the price that networks needing VXLAN on the same node must share a VNI and port.
    /// </summary>
    private static SubnetFacts? ChooseVxlanOwner(IReadOnlyList<SubnetFacts> own, List<string> problems)
    {
        var owner = own.FirstOrDefault(s => s.Routing.Mode is not (RoutingModes.Direct or RoutingModes.Bgp));
        if (owner is not null)
            foreach (var other in own.Where(s => s.Routing.Mode is not (RoutingModes.Direct or RoutingModes.Bgp) && !SameVxlan(s, owner)))
                problems.Add(VxlanConflict(other, owner));
        return owner;
    }

    private sealed record PeerRouting(List<PlannedRoute> Routes, List<PlannedFdb> Fdb, List<PlannedNeighbor> Neighbors, int RoutedNodes, SubnetFacts? VxlanOwner);

    /// <summary>
    /// Every peer block of every PodNetwork is routed, whether or not this node is in that network (a pod of any
    /// network must reach a pod of any other), each with the routing policy of the peer's own NodeSubnet.
    /// A peer node is counted as routed once when it has a block and every one of its blocks, of whichever network,
    /// is routed; a peer without a node address is held, not routable, and neither counted nor a problem.
    /// </summary>
    private static PeerRouting RoutePeers(OwnAndPeerSubnets view, UnderlayFacts underlay, ProtectedSpace guard, SubnetFacts? vxlanOwner,
        List<string> problems, List<BlockRefusal> refusals)
    {
        var underlayFamily = underlay.Address.Address.AddressFamily;
        var routes = new List<PlannedRoute>();
        var fdb = new Dictionary<MacAddress, PlannedFdb>();
        var neighbors = new Dictionary<IPAddress, PlannedNeighbor>();
        var claimed = new BlockClaims();
        foreach (var block in view.Own.SelectMany(s => s.Blocks)) claimed.Claim(block.Cidr, $"this node ({view.NodeName})");
        var peerNodes = new Dictionary<string, (bool HasBlock, bool AllRouted)>(StringComparer.Ordinal);

        foreach (var peer in view.Peers.Where(p => p.NodeName != view.NodeName && p.Routable))
        {
            var peerUnderlay = peer.NodeAddresses.FirstOrDefault(a => a.AddressFamily == underlayFamily);
            bool sameSegment = peerUnderlay is not null && underlay.Address.Network.Contains(peerUnderlay);
            bool routedAll = true;
            foreach (var block in peer.Blocks)
            {
                if (guard.Refusal(block.Cidr) is { } reason)
                {
                    var refusal = new BlockRefusal(peer.Name, Own: false, block.Cidr, reason + "; not routed");
                    refusals.Add(refusal);
                    problems.Add(refusal.Message);
                    routedAll = false;
                    continue;
                }
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
                        problems.Add($"NodeSubnet {peer.Name}: no node address of {IpFamilyName.Of(block.Cidr.Family)} on the underlay subnet " +
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
                        problems.Add($"NodeSubnet {peer.Name}: no {IpFamilyName.Of(underlayFamily)} node address to reach over VXLAN for block {block.Cidr}");
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
        return new PeerRouting(routes, fdb.Values.ToList(), neighbors.Values.ToList(), peerNodes.Values.Count(p => p.HasBlock && p.AllRouted), vxlanOwner);
    }

    /// <summary>An explicit MTU wins; otherwise the underlay's, less the VXLAN overhead when any traffic is encapsulated.</summary>
    private static int PodMtu(IReadOnlyList<SubnetFacts> own, UnderlayFacts underlay, bool vxlanInUse)
    {
        int explicitMtu = own.Select(s => s.Mtu).FirstOrDefault(m => m > 0);
        if (explicitMtu > 0) return explicitMtu;
        return vxlanInUse ? underlay.Mtu - VxlanOverhead(underlay.Address.Address.AddressFamily) : underlay.Mtu;
    }

    private static VxlanDevice VxlanDeviceFor(SubnetFacts policyOwner, UnderlayFacts underlay)
    {
        var policy = policyOwner.Routing;
        var overhead = VxlanOverhead(underlay.Address.Address.AddressFamily);
        return new VxlanDevice(AgentSettings.VxlanDeviceName, policy.Vni, policy.Port, underlay.Address.Address,
            underlay.LinkIndex, underlay.Mtu - overhead, MacAddress.ForVtep(underlay.Address.Address));
    }

    /// <summary>Traffic from this node's blocks to anything outside every pod range leaves with the node's address.</summary>
    private static MasqueradePlan? Masquerade(IReadOnlyList<SubnetFacts> own, IReadOnlyList<SubnetFacts> peers, IReadOnlyList<Block> ownBlocks)
    {
        if (!own.Any(s => s.NatOutgoing) || ownBlocks.Count == 0) return null;
        var everyRange = own.Concat(peers).SelectMany(s => s.NetworkCidrs.Concat(s.Blocks.Select(b => b.Cidr)));
        return new MasqueradePlan(Collapse(ownBlocks.Select(b => b.Cidr)), Collapse(everyRange));
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
}
