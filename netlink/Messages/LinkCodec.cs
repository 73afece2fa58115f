using System.Net;
using System.Net.NetworkInformation;

namespace Trellis.Netlink.Messages;

/// <summary>RTM_*LINK bodies (after the netlink header): pure encode/decode, no I/O.</summary>
internal static class LinkCodec
{
    private const int MaxNameBytes = 15;

    public static void ValidateName(string name, string operation)
    {
        if (string.IsNullOrEmpty(name) || System.Text.Encoding.UTF8.GetByteCount(name) > MaxNameBytes ||
            name is "." or ".." || name.Any(c => c == '/' || c == ':' || char.IsWhiteSpace(c)))
            throw new NetlinkException(operation, $"\"{name}\" is not a valid interface name (1-{MaxNameBytes} bytes, no '/', ':' or spaces)");
    }

    public static void WriteBridge(NetlinkMessageWriter writer, string name, int? mtu, PhysicalAddress? hardwareAddress)
    {
        new IfInfoMessage(AddressFamilies.AF_UNSPEC, 0, 0, 0, 0).WriteTo(writer);
        writer.AttributeString(Ifla.IFNAME, name);
        if (mtu is { } value) writer.AttributeUInt32(Ifla.MTU, (uint)value);
        if (hardwareAddress is not null) writer.Attribute(Ifla.ADDRESS, hardwareAddress.GetAddressBytes());
        int info = writer.BeginNested(Ifla.LINKINFO);
        writer.AttributeString(Ifla.INFO_KIND, "bridge", zeroTerminated: false);
        writer.EndNested(info);
    }

    /// <param name="peerNamespaceFd">When set, the kernel creates the peer straight inside that namespace.</param>
    public static void WriteVethPair(NetlinkMessageWriter writer, string name, string peerName, int? peerNamespaceFd, int? mtu)
    {
        new IfInfoMessage(AddressFamilies.AF_UNSPEC, 0, 0, 0, 0).WriteTo(writer);
        writer.AttributeString(Ifla.IFNAME, name);
        if (mtu is { } value) writer.AttributeUInt32(Ifla.MTU, (uint)value);
        int info = writer.BeginNested(Ifla.LINKINFO);
        writer.AttributeString(Ifla.INFO_KIND, "veth", zeroTerminated: false);
        int data = writer.BeginNested(Ifla.INFO_DATA);
        // VETH_INFO_PEER holds a whole ifinfomsg followed by the peer's own attributes.
        int peer = writer.BeginNested(Ifla.VETH_INFO_PEER);
        new IfInfoMessage(AddressFamilies.AF_UNSPEC, 0, 0, 0, 0).WriteTo(writer);
        writer.AttributeString(Ifla.IFNAME, peerName);
        if (mtu is { } peerMtu) writer.AttributeUInt32(Ifla.MTU, (uint)peerMtu);
        if (peerNamespaceFd is { } fd) writer.AttributeUInt32(Ifla.NET_NS_FD, (uint)fd);
        writer.EndNested(peer);
        writer.EndNested(data);
        writer.EndNested(info);
    }

    public static void WriteVxlan(NetlinkMessageWriter writer, VxlanLinkSpec spec)
    {
        new IfInfoMessage(AddressFamilies.AF_UNSPEC, 0, 0, 0, 0).WriteTo(writer);
        writer.AttributeString(Ifla.IFNAME, spec.Name);
        if (spec.Mtu is { } mtu) writer.AttributeUInt32(Ifla.MTU, (uint)mtu);
        if (spec.HardwareAddress is { } mac) writer.Attribute(Ifla.ADDRESS, mac.GetAddressBytes());
        int info = writer.BeginNested(Ifla.LINKINFO);
        writer.AttributeString(Ifla.INFO_KIND, "vxlan", zeroTerminated: false);
        int data = writer.BeginNested(Ifla.INFO_DATA);
        writer.AttributeUInt32(Ifla.VXLAN_ID, (uint)spec.Vni);
        if (spec.UnderlayLinkIndex is { } underlay) writer.AttributeUInt32(Ifla.VXLAN_LINK, (uint)underlay);
        if (spec.Local is { } local)
            writer.AttributeAddress(local.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? Ifla.VXLAN_LOCAL6 : Ifla.VXLAN_LOCAL, local);
        writer.AttributeUInt8(Ifla.VXLAN_LEARNING, spec.Learning ? (byte)1 : (byte)0);
        writer.AttributeUInt16BigEndian(Ifla.VXLAN_PORT, (ushort)spec.Port);
        writer.EndNested(data);
        writer.EndNested(info);
    }

    /// <summary>An ifinfomsg naming an existing link by index, optionally changing IFF_* flags.</summary>
    public static void WriteSelector(NetlinkMessageWriter writer, int index, uint flags = 0, uint change = 0) =>
        new IfInfoMessage(AddressFamilies.AF_UNSPEC, 0, index, flags, change).WriteTo(writer);

    public static Link? Decode(NetlinkMessage message)
    {
        if (message.Type != Rtm.NEWLINK) return null;
        var header = IfInfoMessage.Read(message.Payload);
        string name = "", kind = "";
        string? alias = null;
        int mtu = 0;
        int? master = null, parent = null;
        PhysicalAddress? hardware = null;
        VxlanInfo? vxlan = null;
        foreach (var attribute in new NetlinkAttributeReader(message.Payload[IfInfoMessage.Size..]))
        {
            switch (attribute.Type)
            {
                case Ifla.IFNAME: name = attribute.AsString(); break;
                case Ifla.MTU: mtu = (int)attribute.AsUInt32(); break;
                case Ifla.MASTER: master = (int)attribute.AsUInt32() is var m and not 0 ? m : null; break;
                case Ifla.LINK: parent = (int)attribute.AsUInt32() is var l and not 0 && l != header.Index ? l : null; break;
                case Ifla.IFALIAS: alias = attribute.AsString() is { Length: > 0 } text ? text : null; break;
                case Ifla.ADDRESS: hardware = attribute.Value.IsEmpty ? null : attribute.AsPhysicalAddress(); break;
                case Ifla.LINKINFO:
                    foreach (var info in attribute.Nested())
                    {
                        if (info.Type == Ifla.INFO_KIND) kind = info.AsString();
                        else if (info.Type == Ifla.INFO_DATA && kind == "vxlan") vxlan = DecodeVxlan(info.Nested());
                    }
                    break;
            }
        }
        return new Link(header.Index, name, kind, mtu, hardware, (header.Flags & Ifla.IFF_UP) != 0, master, vxlan, alias, parent);
    }

    private static VxlanInfo DecodeVxlan(NetlinkAttributeReader data)
    {
        int vni = 0, port = 0;
        int? underlay = null;
        IPAddress? local = null;
        bool learning = false;
        foreach (var attribute in data)
        {
            switch (attribute.Type)
            {
                case Ifla.VXLAN_ID: vni = (int)attribute.AsUInt32(); break;
                case Ifla.VXLAN_PORT: port = attribute.AsUInt16BigEndian(); break;
                case Ifla.VXLAN_LINK: underlay = (int)attribute.AsUInt32() is var u and not 0 ? u : null; break;
                case Ifla.VXLAN_LOCAL or Ifla.VXLAN_LOCAL6: local = attribute.AsAddress(); break;
                case Ifla.VXLAN_LEARNING: learning = attribute.AsUInt8() != 0; break;
            }
        }
        return new VxlanInfo(vni, port, local, underlay, learning);
    }
}
