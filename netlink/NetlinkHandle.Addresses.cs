using System.Net.Sockets;
using Trellis.Addressing;
using Trellis.Netlink.Messages;

namespace Trellis.Netlink;

public sealed partial class NetlinkHandle
{
    public void AddAddress(Link link, IpPrefix address)
    {
        ArgumentNullException.ThrowIfNull(link);
        var operation = $"add address {address} dev {link.Name}";
        ValidateAddress(link.Index, address, operation);
        Execute(Rtm.NEWADDR, CreateExclusive, operation, w => AddressCodec.Write(w, link.Index, address));
    }

    public void DeleteAddress(Link link, IpPrefix address)
    {
        ArgumentNullException.ThrowIfNull(link);
        var operation = $"delete address {address} dev {link.Name}";
        ValidateAddress(link.Index, address, operation);
        Execute(Rtm.DELADDR, 0, operation, w => AddressCodec.Write(w, link.Index, address));
    }

    /// <summary>The addresses of <paramref name="link"/> (every link's when null), of <paramref name="family"/> when given.</summary>
    public IReadOnlyList<Address> ListAddresses(Link? link = null, AddressFamily? family = null)
    {
        int? linkIndex = link?.Index;
        byte requested = family is { } f ? AddressFamilies.Of(f) : AddressFamilies.AF_UNSPEC;
        var all = Dump(Rtm.GETADDR, "list addresses", w => new IfAddrMessage(requested, 0, 0, 0, 0).WriteTo(w), AddressCodec.Decode);
        all.RemoveAll(address => !AddressCodec.Matches(address, linkIndex, family));
        return all;
    }

    private static void ValidateAddress(int linkIndex, IpPrefix address, string operation)
    {
        if (address.Address is null) throw new NetlinkException(operation, "the address is empty");
        if (linkIndex <= 0) throw new NetlinkException(operation, $"link index {linkIndex} is not a link");
        if (address.Address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
            throw new NetlinkException(operation, "the address is neither IPv4 nor IPv6");
    }
}
