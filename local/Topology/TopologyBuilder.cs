using System.Net;
using System.Net.Sockets;
using Trellis.Addressing;
using Trellis.Local.Namespaces;
using Trellis.Netlink;

namespace Trellis.Local.Topology;

/// <summary>Turns a <see cref="TopologyPlan"/> into kernel state through netlink, one namespace at a time.</summary>
public static class TopologyBuilder
{
    /// <summary>The underlay namespace with one bridge per segment; it forwards between segments, in both families.</summary>
    public static void BuildUnderlay(TopologyPlan plan)
    {
        var path = NamedNetworkNamespace.Create(plan.UnderlayNamespace);
        WithoutDuplicateAddressDetection(path);
        using var handle = NetlinkHandle.OpenNamespace(path);
        SetLoopbackUp(handle);
        foreach (var segment in plan.Segments) EnsureSegment(handle, segment);
        NetworkNamespaceRunner.Run(path, () =>
        {
            Sysctl.Write("net/ipv4/ip_forward", "1");
            Sysctl.Write("net/ipv6/conf/all/forwarding", "1");
        });
    }

    /// <summary>A segment's bridge and gateway address, made when a node on a new segment joins.</summary>
    public static void EnsureSegment(NetlinkHandle underlay, UnderlaySegment segment)
    {
        if (underlay.FindLink(segment.BridgeName) is not null) return;
        underlay.AddBridge(segment.BridgeName);
        var bridge = underlay.GetLink(segment.BridgeName);
        underlay.AddAddress(bridge, segment.GatewayPrefix);
        underlay.AddAddress(bridge, segment.Gateway6Prefix);
        underlay.SetLinkUp(bridge);
    }

    /// <summary>A node namespace joined to its segment by a veth whose node end is eth0, with a default route via the segment's router in each family.</summary>
    public static void BuildNode(TopologyPlan plan, PlannedNode node)
    {
        var nodePath = NamedNetworkNamespace.Create(node.Namespace);
        WithoutDuplicateAddressDetection(nodePath);
        // A Kubernetes node forwards before any pod network arrives (kubeadm's preflight requires it): the agent's
        // DaemonSet is unprivileged, its /proc/sys read-only. A new namespace only inherits the machine's IPv4 setting,
        // which is no business of ours, so it is set here as a node's administrator sets it.
        NetworkNamespaceRunner.Run(nodePath, () =>
        {
            Sysctl.Write("net/ipv4/ip_forward", "1");
            Sysctl.Write("net/ipv6/conf/all/forwarding", "1");
        });
        using var underlay = NetlinkHandle.OpenNamespace(NamedNetworkNamespace.PathOf(plan.UnderlayNamespace));
        EnsureSegment(underlay, node.Segment);
        using (var target = NetworkNamespaceRef.Open(nodePath))
            underlay.AddVethPair(node.UnderlayLinkName, "eth0", target, mtu: 1500);
        var underlayEnd = underlay.GetLink(node.UnderlayLinkName);
        underlay.SetMaster(underlayEnd, underlay.GetLink(node.Segment.BridgeName));
        underlay.SetLinkUp(underlayEnd);

        using var handle = NetlinkHandle.OpenNamespace(nodePath);
        SetLoopbackUp(handle);
        var eth0 = handle.GetLink("eth0");
        handle.AddAddress(eth0, node.Address);
        handle.AddAddress(eth0, node.Address6);
        handle.SetLinkUp(eth0);
        handle.AddRoute(new Route
        {
            Destination = Cidr.Parse("0.0.0.0/0"),
            Gateway = node.Segment.Gateway,
            OutputLinkIndex = eth0.Index,
        });
        handle.AddRoute(new Route
        {
            Destination = Cidr.Parse("::/0"),
            Gateway = node.Segment.Gateway6,
            OutputLinkIndex = eth0.Index,
        });
    }

    /// <summary>
    /// Links made in this namespace from now on use their IPv6 addresses at once: every address of
    /// the simulated underlay is planned and unique, and a tentative one would only delay the first packets.
    /// </summary>
    private static void WithoutDuplicateAddressDetection(string namespacePath) =>
        NetworkNamespaceRunner.Run(namespacePath, () =>
        {
            Sysctl.Write("net/ipv6/conf/all/accept_dad", "0");
            Sysctl.Write("net/ipv6/conf/default/accept_dad", "0");
        });

    /// <summary>A pod's empty namespace (the CNI plugin wires it) with loopback up.</summary>
    public static string BuildPodNamespace(string name)
    {
        var path = NamedNetworkNamespace.Create(name);
        using var handle = NetlinkHandle.OpenNamespace(path);
        SetLoopbackUp(handle);
        return path;
    }

    /// <summary>A listening socket inside the underlay namespace, so agents in node namespaces reach the API server.</summary>
    public static Socket ListenInUnderlay(TopologyPlan plan) =>
        NetworkNamespaceRunner.Run(NamedNetworkNamespace.PathOf(plan.UnderlayNamespace), () =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(new IPEndPoint(plan.ApiAddress, TopologyPlan.ApiPort));
            socket.Listen(512);
            return socket;
        });

    private static void SetLoopbackUp(NetlinkHandle handle) => handle.SetLinkUp(handle.GetLink("lo"));
}
