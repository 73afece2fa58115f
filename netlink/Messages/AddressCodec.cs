using System.Net.Sockets;
using Trellis.Addressing;

namespace Trellis.Netlink.Messages;

/// <summary>RTM_*ADDR bodies: pure encode/decode.</summary>
internal static class AddressCodec
{
    public static void Write(NetlinkMessageWriter writer, int linkIndex, IpPrefix address)
    {
        new IfAddrMessage(AddressFamilies.Of(address.Address.AddressFamily), (byte)address.PrefixLength, 0, 0, linkIndex).WriteTo(writer);
        writer.AttributeAddress(Ifa.LOCAL, address.Address);
        writer.AttributeAddress(Ifa.ADDRESS, address.Address);
    }

    public static Address? Decode(NetlinkMessage message)
    {
        if (message.Type != Rtm.NEWADDR) return null;
        var header = IfAddrMessage.Read(message.Payload);
        if (header.Family is not (AddressFamilies.AF_INET or AddressFamilies.AF_INET6)) return null;
        System.Net.IPAddress? local = null, address = null;
        foreach (var attribute in new NetlinkAttributeReader(message.Payload[IfAddrMessage.Size..]))
        {
            if (attribute.Type == Ifa.LOCAL) local = attribute.AsAddress();
            else if (attribute.Type == Ifa.ADDRESS) address = attribute.AsAddress();
        }
        // On point-to-point links IFA_ADDRESS is the peer; IFA_LOCAL is always our own.
        var own = local ?? address;
        if (own is null) return null;
        if (header.PrefixLength > IpAddressMath.BitLength(own.AddressFamily))
            throw new InvalidDataException($"address {own}/{header.PrefixLength} has a prefix longer than its family allows");
        return new Address(header.Index, new IpPrefix(own, header.PrefixLength), header.Scope);
    }

    public static bool Matches(Address address, int? linkIndex, AddressFamily? family) =>
        (linkIndex is null || address.LinkIndex == linkIndex) &&
        (family is null || address.Prefix.Address.AddressFamily == family);
}
