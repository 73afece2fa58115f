using Trellis.Addressing;
using System.Net;
using System.Net.Sockets;

namespace Trellis.Netlink.Messages;

/// <summary>RTM_*ROUTE bodies: pure encode/decode and the checks that keep bad routes from reaching the kernel.</summary>
internal static class RouteCodec
{
    /// <summary>Null when the route can be sent; otherwise why not, in words.</summary>
    public static string? Problem(Route route)
    {
        var family = route.Destination.Family;
        if (family is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)) return "destination is neither IPv4 nor IPv6";
        if (route.Gateway is { } gateway && gateway.AddressFamily != family) return $"gateway {gateway} is not the destination's family";
        if (route.PreferredSource is { } source && source.AddressFamily != family) return $"source {source} is not the destination's family";
        if (route.Table is < 1 or > int.MaxValue) return $"table {route.Table} is out of range";
        if (route.OutputLinkIndex is <= 0) return $"output link index {route.OutputLinkIndex} is not a link";
        if (route.Priority is < 0) return $"metric {route.Priority} is negative";
        if (route.Mtu is <= 0) return $"mtu {route.Mtu} is not positive";
        return null;
    }

    /// <param name="anyScope">
    /// For deletes: send RT_SCOPE_NOWHERE, which the kernel reads as "whatever the scope", as
    /// ip route del does; a route rebuilt from desired state then matches its kernel twin even
    /// when the kernel chose the scope.
    /// </param>
    public static void Write(NetlinkMessageWriter writer, Route route, bool anyScope = false)
    {
        var family = AddressFamilies.Of(route.Destination.Family);
        // rtm_table is a byte; tables past 255 travel in RTA_TABLE with rtm_table left unspecified.
        byte table = route.Table < 256 ? (byte)route.Table : Rta.RT_TABLE_UNSPEC;
        new RouteMessage(family, (byte)route.Destination.PrefixLength, 0, 0, table, route.Protocol, anyScope ? (byte)RouteScope.Nowhere : (byte)route.Scope,
            (byte)route.Type, route.OnLink ? Rta.RTNH_F_ONLINK : 0).WriteTo(writer);
        if (route.Destination.PrefixLength > 0) writer.AttributeAddress(Rta.DST, route.Destination.Network);
        if (route.PreferredSource is { } source) writer.AttributeAddress(Rta.PREFSRC, source);
        if (route.Gateway is { } gateway) writer.AttributeAddress(Rta.GATEWAY, gateway);
        if (route.OutputLinkIndex is { } link) writer.AttributeUInt32(Rta.OIF, (uint)link);
        if (route.Priority is { } metric) writer.AttributeUInt32(Rta.PRIORITY, (uint)metric);
        if (route.Table >= 256) writer.AttributeUInt32(Rta.TABLE, (uint)route.Table);
        if (route.Mtu is { } mtu)
        {
            int metrics = writer.BeginNested(Rta.METRICS);
            writer.AttributeUInt32(Rta.RTAX_MTU, (uint)mtu);
            writer.EndNested(metrics);
        }
    }

    public static Route? Decode(NetlinkMessage message)
    {
        if (message.Type != Rtm.NEWROUTE) return null;
        var header = RouteMessage.Read(message.Payload);
        if ((header.Flags & Rta.RTM_F_CLONED) != 0) return null;
        var family = header.Family switch
        {
            AddressFamilies.AF_INET => AddressFamily.InterNetwork,
            AddressFamilies.AF_INET6 => AddressFamily.InterNetworkV6,
            _ => AddressFamily.Unspecified,
        };
        if (family == AddressFamily.Unspecified) return null;
        IPAddress? destination = null, gateway = null, source = null;
        int? link = null, metric = null, mtu = null;
        int table = header.Table;
        foreach (var attribute in new NetlinkAttributeReader(message.Payload[RouteMessage.Size..]))
        {
            switch (attribute.Type)
            {
                case Rta.DST: destination = attribute.AsAddress(); break;
                case Rta.GATEWAY: gateway = attribute.AsAddress(); break;
                case Rta.PREFSRC: source = attribute.AsAddress(); break;
                case Rta.OIF: link = (int)attribute.AsUInt32(); break;
                case Rta.PRIORITY: metric = (int)attribute.AsUInt32(); break;
                case Rta.TABLE: table = (int)attribute.AsUInt32(); break;
                case Rta.METRICS:
                    foreach (var entry in attribute.Nested())
                        if (entry.Type == Rta.RTAX_MTU) mtu = (int)entry.AsUInt32();
                    break;
            }
        }
        destination ??= family == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any;
        if (destination.AddressFamily != family || gateway is not null && gateway.AddressFamily != family ||
            header.DestinationLength > Trellis.Addressing.IpAddressMath.BitLength(family))
            throw new InvalidDataException($"route {destination}/{header.DestinationLength} does not fit its address family {family}");
        return new Route
        {
            Destination = Cidr.Containing(destination, header.DestinationLength),
            Gateway = gateway,
            OutputLinkIndex = link,
            OnLink = (header.Flags & Rta.RTNH_F_ONLINK) != 0,
            Scope = (RouteScope)header.Scope,
            Table = table,
            Protocol = header.Protocol,
            Priority = metric,
            PreferredSource = source,
            Mtu = mtu,
            Type = (RouteType)header.Type,
        };
    }
}
