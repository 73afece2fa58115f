using Trellis.Addressing;
using System.Net;
using System.Text;

namespace Trellis.Netlink;

/// <summary>A kernel route. Value equality matters: the agent diffs desired against actual with it.</summary>
public sealed record Route
{
    public required Cidr Destination { get; init; }
    public IPAddress? Gateway { get; init; }
    public int? OutputLinkIndex { get; init; }
    /// <summary>RTNH_F_ONLINK: the gateway is on the link even though no address there covers it.</summary>
    public bool OnLink { get; init; }
    public RouteScope Scope { get; init; } = RouteScope.Universe;
    public int Table { get; init; } = RouteTables.Main;
    /// <summary>Who installed the route; Trellis marks its routes with its own number.</summary>
    public byte Protocol { get; init; } = RouteProtocols.Boot;
    /// <summary>The metric.</summary>
    public int? Priority { get; init; }
    public IPAddress? PreferredSource { get; init; }
    /// <summary>RTAX_MTU inside RTA_METRICS.</summary>
    public int? Mtu { get; init; }
    public RouteType Type { get; init; } = RouteType.Unicast;

    /// <summary>The route in ip-route words ("10.244.2.0/24 via 192.168.1.12 dev 3 table 100"), for messages; the device by <paramref name="outputLinkName"/> when the caller knows it.</summary>
    public string Describe(string? outputLinkName = null)
    {
        var text = new StringBuilder();
        if (Type != RouteType.Unicast) text.Append(Type.ToString().ToLowerInvariant()).Append(' ');
        text.Append(Destination);
        if (Gateway is not null) text.Append(" via ").Append(Gateway);
        if (outputLinkName is not null) text.Append(" dev ").Append(outputLinkName);
        else if (OutputLinkIndex is { } link) text.Append(" dev ").Append(link);
        if (OnLink) text.Append(" onlink");
        if (Table != RouteTables.Main) text.Append(" table ").Append(Table);
        if (Priority is { } metric) text.Append(" metric ").Append(metric);
        return text.ToString();
    }
}

public enum RouteScope : byte { Universe = 0, Site = 200, Link = 253, Host = 254, Nowhere = 255 }

public enum RouteType : byte { Unicast = 1, Local = 2, Broadcast = 3, Blackhole = 6, Unreachable = 7 }

public static class RouteTables
{
    public const int Main = 254;
    public const int Local = 255;
}

public static class RouteProtocols
{
    public const byte Kernel = 2, Boot = 3, Static = 4;
}

public enum RouteOperation { Add, Replace, Delete }

public sealed record RouteChange(RouteOperation Op, Route Route);
