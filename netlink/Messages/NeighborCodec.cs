using System.Net;
using System.Net.NetworkInformation;

namespace Trellis.Netlink.Messages;

/// <summary>RTM_*NEIGH bodies for IP neighbours (AF_INET/AF_INET6) and forwarding entries (AF_BRIDGE, NTF_SELF): pure encode/decode.</summary>
internal static class NeighborCodec
{
    public static void WriteNeighbor(NetlinkMessageWriter writer, Neighbor neighbor)
    {
        new NeighborMessage(AddressFamilies.Of(neighbor.Address.AddressFamily), neighbor.LinkIndex, (ushort)neighbor.State, 0, 0).WriteTo(writer);
        writer.AttributeAddress(Nda.DST, neighbor.Address);
        if (neighbor.HardwareAddress is { } mac) writer.Attribute(Nda.LLADDR, mac.GetAddressBytes());
        if (neighbor.Protocol is { } protocol) writer.AttributeUInt8(Nda.PROTOCOL, protocol);
    }

    public static void WriteFdb(NetlinkMessageWriter writer, FdbEntry entry)
    {
        new NeighborMessage(AddressFamilies.AF_BRIDGE, entry.LinkIndex, (ushort)entry.State, Nda.NTF_SELF, 0).WriteTo(writer);
        writer.Attribute(Nda.LLADDR, entry.HardwareAddress.GetAddressBytes());
        if (entry.Destination is { } destination) writer.AttributeAddress(Nda.DST, destination);
        if (entry.Port is { } port) writer.AttributeUInt16BigEndian(Nda.PORT, (ushort)port);
        if (entry.Vni is { } vni) writer.AttributeUInt32(Nda.VNI, (uint)vni);
    }

    public static Neighbor? DecodeNeighbor(NetlinkMessage message)
    {
        if (message.Type != Rtm.NEWNEIGH) return null;
        var header = NeighborMessage.Read(message.Payload);
        if (header.Family is not (AddressFamilies.AF_INET or AddressFamilies.AF_INET6)) return null;
        IPAddress? address = null;
        PhysicalAddress? mac = null;
        byte? protocol = null;
        foreach (var attribute in new NetlinkAttributeReader(message.Payload[NeighborMessage.Size..]))
        {
            switch (attribute.Type)
            {
                case Nda.DST: address = attribute.AsAddress(); break;
                case Nda.LLADDR: mac = attribute.Value.IsEmpty ? null : attribute.AsPhysicalAddress(); break;
                case Nda.PROTOCOL: protocol = attribute.AsUInt8(); break;
            }
        }
        return address is null ? null : new Neighbor(header.Index, address, mac, (NeighborState)header.State, protocol);
    }

    public static FdbEntry? DecodeFdb(NetlinkMessage message)
    {
        if (message.Type != Rtm.NEWNEIGH) return null;
        var header = NeighborMessage.Read(message.Payload);
        if (header.Family != AddressFamilies.AF_BRIDGE) return null;
        PhysicalAddress? mac = null;
        IPAddress? destination = null;
        int? vni = null, port = null;
        foreach (var attribute in new NetlinkAttributeReader(message.Payload[NeighborMessage.Size..]))
        {
            switch (attribute.Type)
            {
                case Nda.LLADDR: mac = attribute.AsPhysicalAddress(); break;
                case Nda.DST: destination = attribute.AsAddress(); break;
                case Nda.VNI: vni = (int)attribute.AsUInt32(); break;
                case Nda.PORT: port = attribute.AsUInt16BigEndian(); break;
            }
        }
        return mac is null ? null : new FdbEntry(header.Index, mac, destination, (NeighborState)header.State, vni, port);
    }
}
