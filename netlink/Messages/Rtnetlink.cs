namespace Trellis.Netlink.Messages;

/// <summary>Numbers from linux/netlink.h and linux/rtnetlink.h.</summary>
internal static class Nlmsg
{
    public const ushort NLMSG_NOOP = 1, NLMSG_ERROR = 2, NLMSG_DONE = 3, NLMSG_OVERRUN = 4;
    public const ushort NLM_F_REQUEST = 0x1, NLM_F_MULTI = 0x2, NLM_F_ACK = 0x4, NLM_F_DUMP_INTR = 0x10;
    public const ushort NLM_F_DUMP = 0x300;
    public const ushort NLM_F_REPLACE = 0x100, NLM_F_EXCL = 0x200, NLM_F_CREATE = 0x400, NLM_F_APPEND = 0x800;
    /// <summary>In an NLMSG_ERROR: extended-ack attributes follow the echoed header.</summary>
    public const ushort NLM_F_ACK_TLVS = 0x200;
    public const ushort NLMSGERR_ATTR_MSG = 1;
    public const int HeaderSize = 16;
    public const int AttributeHeaderSize = 4;
    public const ushort NLA_TYPE_MASK = 0x3fff;
    public const ushort NLA_F_NESTED = 0x8000;

    public static int Align(int length) => (length + 3) & ~3;
}

internal static class Rtm
{
    public const ushort NEWLINK = 16, DELLINK = 17, GETLINK = 18;
    public const ushort NEWADDR = 20, DELADDR = 21, GETADDR = 22;
    public const ushort NEWROUTE = 24, DELROUTE = 25, GETROUTE = 26;
    public const ushort NEWNEIGH = 28, DELNEIGH = 29, GETNEIGH = 30;
}

internal static class AddressFamilies
{
    public const byte AF_UNSPEC = 0, AF_INET = 2, AF_BRIDGE = 7, AF_INET6 = 10;

    public static byte Of(System.Net.Sockets.AddressFamily family) => family switch
    {
        System.Net.Sockets.AddressFamily.InterNetwork => AF_INET,
        System.Net.Sockets.AddressFamily.InterNetworkV6 => AF_INET6,
        _ => throw new ArgumentException($"address family {family} is neither IPv4 nor IPv6", nameof(family)),
    };
}

internal static class Ifla
{
    public const ushort ADDRESS = 1, IFNAME = 3, MTU = 4, LINK = 5, MASTER = 10, LINKINFO = 18, IFALIAS = 20, NET_NS_FD = 28;
    public const ushort INFO_KIND = 1, INFO_DATA = 2;
    public const ushort VETH_INFO_PEER = 1;
    public const ushort VXLAN_ID = 1, VXLAN_LINK = 3, VXLAN_LOCAL = 4, VXLAN_LEARNING = 7, VXLAN_PORT = 15, VXLAN_LOCAL6 = 17;
    public const uint IFF_UP = 0x1;
}

internal static class Ifa
{
    public const ushort ADDRESS = 1, LOCAL = 2;
}

internal static class Rta
{
    public const ushort DST = 1, OIF = 4, GATEWAY = 5, PRIORITY = 6, PREFSRC = 7, METRICS = 8, TABLE = 15;
    public const ushort RTAX_MTU = 2;
    public const uint RTNH_F_ONLINK = 0x4;
    public const uint RTM_F_CLONED = 0x200;
    public const byte RT_TABLE_UNSPEC = 0;
}

internal static class Nda
{
    public const ushort DST = 1, LLADDR = 2, PORT = 6, VNI = 7, PROTOCOL = 12;
    public const byte NTF_SELF = 0x2;
}
