using System.Net.Sockets;
using Trellis.Netlink.Messages;

namespace Trellis.Netlink;

public sealed partial class NetlinkHandle
{
    public void AddRoute(Route route) => ChangeRoute(RouteOperation.Add, route);

    /// <summary>Adds <paramref name="route"/> out of <paramref name="outputLink"/>, whose name an error then gives ("add route 0.0.0.0/0 via 10.244.1.1 dev eth0: ...").</summary>
    public void AddRoute(Route route, Link outputLink)
    {
        ArgumentNullException.ThrowIfNull(route);
        ArgumentNullException.ThrowIfNull(outputLink);
        ChangeRoute(RouteOperation.Add, route with { OutputLinkIndex = outputLink.Index }, outputLink.Name);
    }

    public void ReplaceRoute(Route route) => ChangeRoute(RouteOperation.Replace, route);

    public void DeleteRoute(Route route) => ChangeRoute(RouteOperation.Delete, route);

    /// <summary>The routes of one family, from one table (null: every table). Kernel-cloned cache entries are left out.</summary>
    public IReadOnlyList<Route> ListRoutes(AddressFamily family, int? table = RouteTables.Main)
    {
        byte requested = AddressFamilies.Of(family);
        var routes = Dump(Rtm.GETROUTE, $"list {(requested == AddressFamilies.AF_INET ? "IPv4" : "IPv6")} routes",
            w => new RouteMessage(requested, 0, 0, 0, 0, 0, 0, 0, 0).WriteTo(w), RouteCodec.Decode);
        if (table is { } wanted) routes.RemoveAll(route => route.Table != wanted);
        return routes;
    }

    /// <summary>
    /// Applies many route changes with few system calls: requests are packed into large datagrams
    /// and all are sent before their acks are read. Each change gets its own outcome, in order:
    /// null when it took effect, otherwise the error it met; one failure never stops the rest.
    /// </summary>
    public IReadOnlyList<NetlinkException?> ApplyRoutes(IReadOnlyList<RouteChange> changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        var outcomes = new NetlinkException?[changes.Count];
        var sendable = new List<int>(changes.Count);
        for (int i = 0; i < changes.Count; i++)
        {
            var change = changes[i];
            if (change?.Route is null)
                outcomes[i] = new NetlinkException($"route change {i}", "the change or its route is missing");
            else if (RouteCodec.Problem(change.Route) is { } problem)
                outcomes[i] = new NetlinkException(DescribeRouteChange(change.Op, change.Route), problem);
            else
                sendable.Add(i);
        }
        if (sendable.Count == 0) return outcomes;

        (int Errno, string? Text)[] results;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            results = _socket.RunPipelined(sendable.Count, (writer, n, sequence) =>
            {
                var change = changes[sendable[n]];
                var (type, flags) = RouteRequest(change.Op);
                writer.BeginMessage(type, (ushort)(flags | Nlmsg.NLM_F_REQUEST | Nlmsg.NLM_F_ACK), sequence);
                RouteCodec.Write(writer, change.Route, anyScope: change.Op == RouteOperation.Delete);
                writer.EndMessage();
            }, $"apply {sendable.Count} route changes");
        }
        for (int n = 0; n < sendable.Count; n++)
        {
            if (results[n].Errno == 0) continue;
            var change = changes[sendable[n]];
            outcomes[sendable[n]] = new NetlinkException(DescribeRouteChange(change.Op, change.Route), results[n].Errno, results[n].Text);
        }
        return outcomes;
    }

    private void ChangeRoute(RouteOperation op, Route route, string? outputLinkName = null)
    {
        ArgumentNullException.ThrowIfNull(route);
        var operation = DescribeRouteChange(op, route, outputLinkName);
        if (RouteCodec.Problem(route) is { } problem) throw new NetlinkException(operation, problem);
        var (type, flags) = RouteRequest(op);
        Execute(type, flags, operation, w => RouteCodec.Write(w, route, anyScope: op == RouteOperation.Delete));
    }

    private static (ushort Type, ushort Flags) RouteRequest(RouteOperation op) => op switch
    {
        RouteOperation.Add => (Rtm.NEWROUTE, Nlmsg.NLM_F_CREATE | Nlmsg.NLM_F_EXCL),
        RouteOperation.Replace => (Rtm.NEWROUTE, Nlmsg.NLM_F_CREATE | Nlmsg.NLM_F_REPLACE),
        RouteOperation.Delete => (Rtm.DELROUTE, 0),
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "unknown route operation"),
    };

    private static string DescribeRouteChange(RouteOperation op, Route route, string? outputLinkName = null) => op switch
    {
        RouteOperation.Add => "add route ",
        RouteOperation.Replace => "replace route ",
        RouteOperation.Delete => "delete route ",
        _ => $"{op} route ",
    } + route.Describe(outputLinkName);
}
