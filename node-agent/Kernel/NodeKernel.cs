using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Trellis.Addressing;
using Trellis.Netlink;
using Trellis.NodeAgent.Planning;
using Trellis.NodeAgent.Reconciling;
using static Trellis.NodeAgent.Kernel.KernelConversions;

namespace Trellis.NodeAgent.Kernel;

/// <summary>
/// The node's kernel as the agent sees it: reads what it needs through netlink and applies the
/// differences the pure diffs compute. A full pass reads everything; an event-driven pass trusts
/// what this process itself ensured for the devices and re-reads only the routing table (and the
/// VXLAN FDB and neighbours when their plan changed), so one changed peer costs a dump and a change.
/// </summary>
public sealed class NodeKernel(NetlinkHandle netlink, ILogger logger)
{
    private UnderlayFacts? _underlay;
    private NodeNetworkFacts? _network;
    private IReadOnlyList<System.Net.IPAddress> _underlayFrom = [];
    private BridgeDevice? _bridge;
    private Link? _bridgeLink;
    private IReadOnlyList<IpPrefix> _bridgeAddresses = [];
    private VxlanDevice? _vxlan;
    private Link? _vxlanLink;
    private bool _vxlanEnsured;
    private IReadOnlyList<IpPrefix> _vtepAddresses = [];
    private IReadOnlyList<PlannedFdb> _fdb = [];
    private IReadOnlyList<PlannedNeighbor> _neighbors = [];
    private (bool V4, bool V6)? _forwarding;
    private HashSet<AddressFamily> _routeFamilies = [];

    public NetlinkHandle Netlink => netlink;

    /// <summary>
    /// The underlay interface holding one of <paramref name="nodeAddresses"/>, every address the node holds (with
    /// its link's name) and the gateways of its default routes; read again on a full pass or when the addresses change.
    /// </summary>
    public NodeNetworkFacts ReadNodeNetwork(string nodeName, IReadOnlyList<System.Net.IPAddress> nodeAddresses, bool full)
    {
        if (!full && _network is not null && _underlayFrom.SequenceEqual(nodeAddresses)) return _network;
        var all = netlink.ListAddresses();
        var addresses = all.Select(a => new InterfaceAddress(a.LinkIndex, a.Prefix)).ToList();
        if (!UnderlayLocator.TryLocate(nodeName, nodeAddresses, addresses, out var primary, out var error))
            throw new UnderlayNotFoundException(error);
        var links = netlink.ListLinks().ToDictionary(l => l.Index);
        if (!links.TryGetValue(primary.LinkIndex, out var link))
            throw new UnderlayNotFoundException($"node {nodeName}: underlay interface #{primary.LinkIndex} vanished while it was read");
        var host = all.Select(a => new LinkAddress(links.TryGetValue(a.LinkIndex, out var l) ? l.Name : $"#{a.LinkIndex}", a.Prefix)).ToList();
        var gateways = new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 }
            .SelectMany(family => netlink.ListRoutes(family))
            .Where(route => route.Destination.PrefixLength == 0 && route.Gateway is not null)
            .Select(route => route.Gateway!).Distinct().ToList();
        _underlay = new UnderlayFacts(link.Index, link.Name, link.Mtu, primary.Address, UnderlayLocator.SiblingsOf(primary, addresses));
        _network = new NodeNetworkFacts(_underlay, host, gateways);
        _underlayFrom = nodeAddresses.ToList();
        return _network;
    }

    /// <summary>Applies the plan; returns the problems met (each naming the object), empty when everything is programmed.</summary>
    public IReadOnlyList<string> Apply(NodePlan plan, bool full)
    {
        var problems = new List<string>();
        Try(problems, () => EnsureForwarding(plan, full));
        Try(problems, () => EnsureBridge(plan, full));
        Try(problems, () => EnsureVxlan(plan, full));
        if (plan.Vxlan is not null && _vxlanLink is { } vxlanLink)
        {
            Try(problems, () => EnsureFdb(plan, vxlanLink, full));
            Try(problems, () => EnsureNeighbors(plan, vxlanLink, full, problems));
        }
        Try(problems, () => EnsureRoutes(plan, full, problems));
        if (plan.Vxlan is null) Try(problems, () => RemoveVxlan(full));
        return problems;
    }

    private void Try(List<string> problems, Action step)
    {
        try
        {
            step();
        }
        catch (Exception e) when (e is NetlinkException or IOException or InvalidOperationException)
        {
            logger.LogWarning("{Problem}", e.Message);
            problems.Add(e.Message);
        }
    }

    private void EnsureForwarding(NodePlan plan, bool full)
    {
        if (!full && _forwarding == (plan.ForwardIPv4, plan.ForwardIPv6)) return;
        if (plan.ForwardIPv4 && Sysctl.Read("net/ipv4/ip_forward") != "1") Sysctl.Write("net/ipv4/ip_forward", "1");
        if (plan.ForwardIPv6 && Sysctl.Read("net/ipv6/conf/all/forwarding") != "1") Sysctl.Write("net/ipv6/conf/all/forwarding", "1");
        _forwarding = (plan.ForwardIPv4, plan.ForwardIPv6);
    }

    private void EnsureBridge(NodePlan plan, bool full)
    {
        if (full || _bridge != plan.Bridge)
        {
            // Made the way trellis-cni makes it when a pod comes first; its MTU is the agent's alone to change.
            var link = GatewayBridge.Ensure(netlink, plan.Bridge.Name, plan.Bridge.Mtu, out bool created);
            if (created) logger.LogInformation("created bridge {Bridge} (MTU {Mtu})", plan.Bridge.Name, plan.Bridge.Mtu);
            if (link.Mtu != plan.Bridge.Mtu) netlink.SetMtu(link, plan.Bridge.Mtu);
            // A bridge made before its MAC was fixed at birth would still follow its ports' MACs, and pods would lose their gateway.
            // Once per agent: setting a MAC, even the same one, flushes the bridge's neighbour entries.
            if (_bridgeLink?.Index != link.Index) GatewayBridge.PinHardwareAddress(netlink, link);
            _bridgeLink = link;
            _bridge = plan.Bridge;
            _bridgeAddresses = [];
        }
        if (!full && _bridgeAddresses.SequenceEqual(plan.BridgeAddresses)) return;
        var bridge = _bridgeLink!;
        var actual = netlink.ListAddresses(bridge).Select(a => a.Prefix).ToList();
        var diff = AddressDiff.Compute(plan.BridgeAddresses, actual);
        GatewayBridge.AddGateways(netlink, bridge, diff.Add);
        foreach (var address in diff.Add) logger.LogInformation("added {Address} to {Bridge}", address, plan.Bridge.Name);
        // Only the agent takes a gateway away: it alone knows which blocks the node no longer holds.
        foreach (var address in diff.Delete)
        {
            netlink.DeleteAddress(bridge, address);
            logger.LogInformation("removed {Address} from {Bridge}", address, plan.Bridge.Name);
        }
        _bridgeAddresses = plan.BridgeAddresses;
    }

    private void EnsureVxlan(NodePlan plan, bool full)
    {
        if (plan.Vxlan is not { } wanted) return;
        if (full || !_vxlanEnsured || _vxlan != wanted)
        {
            var link = netlink.FindLink(wanted.Name);
            if (link is not null && !Matches(link, wanted))
            {
                logger.LogInformation("recreating {Device}: its VNI, port, local address or underlay changed", wanted.Name);
                netlink.DeleteLink(link);
                link = null;
            }
            if (link is null)
            {
                netlink.AddVxlan(new VxlanLinkSpec(wanted.Name, wanted.Vni, wanted.Port, wanted.Local, wanted.UnderlayLinkIndex,
                    Learning: false, Mtu: wanted.Mtu, HardwareAddress: ToPhysical(wanted.Mac)));
                link = netlink.GetLink(wanted.Name);
                _fdb = [];
                _neighbors = [];
                logger.LogInformation("created {Device} (VNI {Vni}, port {Port}, local {Local}, MTU {Mtu})", wanted.Name, wanted.Vni, wanted.Port, wanted.Local, wanted.Mtu);
            }
            if (link.Mtu != wanted.Mtu) netlink.SetMtu(link, wanted.Mtu);
            if (ToMac(link.HardwareAddress) != wanted.Mac) netlink.SetHardwareAddress(link, ToPhysical(wanted.Mac));
            if (!link.IsUp) netlink.SetLinkUp(link);
            _vxlanLink = link;
            _vxlan = wanted;
            _vxlanEnsured = true;
            _vtepAddresses = [];
        }
        if (!full && _vtepAddresses.SequenceEqual(plan.VtepAddresses)) return;
        var vxlan = _vxlanLink!;
        var diff = AddressDiff.Compute(plan.VtepAddresses, netlink.ListAddresses(vxlan).Select(a => a.Prefix));
        foreach (var address in diff.Add) netlink.AddAddress(vxlan, address);
        foreach (var address in diff.Delete) netlink.DeleteAddress(vxlan, address);
        _vtepAddresses = plan.VtepAddresses;
    }

    private static bool Matches(Link link, VxlanDevice wanted) =>
        link.Kind == "vxlan" && link.Vxlan is { } info && info.Vni == wanted.Vni && info.Port == wanted.Port &&
        Equals(info.Local, wanted.Local) && info.UnderlayLinkIndex == wanted.UnderlayLinkIndex && !info.Learning;

    private void RemoveVxlan(bool full)
    {
        if (!full && !_vxlanEnsured) return;
        if (netlink.FindLink(AgentSettings.VxlanDeviceName) is { } link)
        {
            netlink.DeleteLink(link);
            logger.LogInformation("removed {Device}: no peer is reached over VXLAN any more", link.Name);
        }
        _vxlan = null;
        _vxlanLink = null;
        _vxlanEnsured = false;
        _fdb = [];
        _neighbors = [];
    }

    private void EnsureFdb(NodePlan plan, Link vxlan, bool full)
    {
        if (!full && _fdb.SequenceEqual(plan.Fdb)) return;
        var actual = netlink.ListFdb(vxlan)
            .Select(e => ToMac(e.HardwareAddress) is { } mac ? new KernelFdb(mac, e.Destination) : null)
            .OfType<KernelFdb>().ToList();
        var diff = FdbDiff.Compute(plan.Fdb, actual);
        foreach (var entry in diff.Delete)
            netlink.DeleteFdb(new FdbEntry(vxlan.Index, ToPhysical(entry.Mac), entry.Destination));
        foreach (var entry in diff.Add)
            netlink.AppendFdb(new FdbEntry(vxlan.Index, ToPhysical(entry.Mac), entry.Destination));
        _fdb = plan.Fdb;
    }

    private void EnsureNeighbors(NodePlan plan, Link vxlan, bool full, List<string> problems)
    {
        if (!full && _neighbors.SequenceEqual(plan.Neighbors)) return;
        var families = plan.Neighbors.Select(n => n.Address.AddressFamily)
            .Concat(_neighbors.Select(n => n.Address.AddressFamily))
            .Concat(full ? [AddressFamily.InterNetwork, AddressFamily.InterNetworkV6] : [])
            .Distinct();
        var actual = families.SelectMany(f => netlink.ListNeighbors(f, vxlan)).Select(ToKernel).ToList();
        var diff = NeighborDiff.Compute(plan.Neighbors, actual);
        foreach (var address in diff.Delete)
            netlink.DeleteNeighbor(new Trellis.Netlink.Neighbor(vxlan.Index, address, null));
        foreach (var neighbor in diff.Replace)
            netlink.ReplaceNeighbor(new Trellis.Netlink.Neighbor(vxlan.Index, neighbor.Address, ToPhysical(neighbor.Mac),
                NeighborState.Permanent, TrellisProtocol.Number));
        // A conflict is looked at again on the next pass, so it keeps being reported until its owner clears it.
        _neighbors = diff.Conflicts.Count == 0 ? plan.Neighbors : [];
        foreach (var conflict in diff.Conflicts) logger.LogWarning("{Problem}", conflict);
        problems.AddRange(diff.Conflicts);
    }

    private void EnsureRoutes(NodePlan plan, bool full, List<string> problems)
    {
        var underlay = _underlay ?? throw new InvalidOperationException("routes cannot be planned before the underlay interface is known");
        var desired = RouteResolution.Resolve(plan.Routes, underlay.LinkIndex, _vxlanLink?.Index);
        var families = desired.Select(r => r.Destination.Family).ToHashSet();
        families.Add(AddressFamily.InterNetwork);
        if (full) families.Add(AddressFamily.InterNetworkV6);
        families.UnionWith(_routeFamilies);

        var changes = new List<RouteChange>();
        foreach (var family in families.Order())
        {
            var actual = netlink.ListRoutes(family).Where(r => r.Type == RouteType.Unicast).Select(ToKernel).ToList();
            var diff = RouteDiff.Compute(desired.Where(r => r.Destination.Family == family).ToList(), actual);
            problems.AddRange(diff.Conflicts);
            changes.AddRange(diff.Replace.Select(r => new RouteChange(RouteOperation.Replace, ToNetlink(r))));
            changes.AddRange(diff.Delete.Select(r => new RouteChange(RouteOperation.Delete, ToNetlink(r))));
        }
        _routeFamilies = desired.Select(r => r.Destination.Family).ToHashSet();
        if (changes.Count == 0) return;
        var outcomes = netlink.ApplyRoutes(changes);
        int failed = 0;
        for (int i = 0; i < outcomes.Count; i++)
        {
            if (outcomes[i] is not { } error) continue;
            if (changes[i].Op == RouteOperation.Delete && error.IsNotFound) continue;
            failed++;
            if (failed <= 5) problems.Add(error.Message);
        }
        if (failed > 5) problems.Add($"{failed - 5} more route changes failed");
        logger.LogInformation("routes: {Replaced} added or replaced, {Deleted} removed, {Failed} failed",
            changes.Count(c => c.Op == RouteOperation.Replace), changes.Count(c => c.Op == RouteOperation.Delete), failed);
    }
}

/// <summary>What the kernel says about the node's own network: its underlay, every address it holds, its default gateways.</summary>
public sealed record NodeNetworkFacts(UnderlayFacts Underlay, IReadOnlyList<LinkAddress> HostAddresses, IReadOnlyList<System.Net.IPAddress> DefaultGateways);

/// <summary>The node's underlay interface cannot be found; nothing is programmed until it can.</summary>
public sealed class UnderlayNotFoundException(string message) : Exception(message);
