using Trellis.Addressing;
using System.Net;
using System.Net.NetworkInformation;
using Trellis.Netlink.Messages;
using Xunit;

namespace Trellis.Netlink.Tests;

/// <summary>Requests compared byte for byte with layouts worked out from linux/netlink.h, rtnetlink.h, if_link.h, veth.h and neighbour.h (x86-64, little endian).</summary>
public sealed class MessageEncodingTests
{
    private const ushort Request = Nlmsg.NLM_F_REQUEST | Nlmsg.NLM_F_ACK;

    private static byte[] Encode(ushort type, ushort flags, uint sequence, Action<NetlinkMessageWriter> body)
    {
        var writer = new NetlinkMessageWriter();
        writer.BeginMessage(type, flags, sequence);
        body(writer);
        writer.EndMessage();
        return writer.Written.ToArray();
    }

    [Fact]
    public void Route_via_a_gateway_in_the_main_table()
    {
        var route = new Route
        {
            Destination = Cidr.Parse("10.244.2.0/24"),
            Gateway = IPAddress.Parse("192.168.1.12"),
            Protocol = 150,
        };

        var bytes = Encode(Rtm.NEWROUTE, Request | Nlmsg.NLM_F_CREATE | Nlmsg.NLM_F_EXCL, 1, w => RouteCodec.Write(w, route));

        Assert.Equal(Hex.Bytes(
            "2c000000",          // nlmsg_len 44
            "1800",              // RTM_NEWROUTE 24
            "0506",              // NLM_F_REQUEST|NLM_F_ACK|NLM_F_EXCL|NLM_F_CREATE = 0x605
            "01000000",          // seq 1
            "00000000",          // pid 0 (the kernel fills ours in)
            "02 18 00 00",       // rtmsg: AF_INET, dst_len 24, src_len 0, tos 0
            "fe 96 00 01",       // table main 254, protocol 150, scope universe, RTN_UNICAST
            "00000000",          // rtm_flags
            "0800 0100 0af40200", // RTA_DST 10.244.2.0
            "0800 0500 c0a8010c"), // RTA_GATEWAY 192.168.1.12
            bytes);
    }

    [Fact]
    public void Route_in_a_table_past_255_with_device_metric_onlink_and_mtu()
    {
        var route = new Route
        {
            Destination = Cidr.Parse("10.244.3.0/24"),
            Gateway = IPAddress.Parse("192.168.1.13"),
            OutputLinkIndex = 3,
            OnLink = true,
            Table = 1000,
            Protocol = 150,
            Priority = 100,
            Mtu = 1400,
        };

        var bytes = Encode(Rtm.NEWROUTE, Request | Nlmsg.NLM_F_CREATE | Nlmsg.NLM_F_REPLACE, 2, w => RouteCodec.Write(w, route));

        Assert.Equal(Hex.Bytes(
            "50000000 1800 0505 02000000 00000000", // len 80, RTM_NEWROUTE, REQUEST|ACK|REPLACE|CREATE, seq 2
            "02 18 00 00",                          // AF_INET /24
            "00 96 00 01",                          // rtm_table RT_TABLE_UNSPEC: the real table goes in RTA_TABLE
            "04000000",                             // RTNH_F_ONLINK
            "0800 0100 0af40300",                   // RTA_DST 10.244.3.0
            "0800 0500 c0a8010d",                   // RTA_GATEWAY 192.168.1.13
            "0800 0400 03000000",                   // RTA_OIF 3
            "0800 0600 64000000",                   // RTA_PRIORITY 100
            "0800 0f00 e8030000",                   // RTA_TABLE 1000
            "0c00 0800",                            // RTA_METRICS, 12 bytes
            "0800 0200 78050000"),                  //   RTAX_MTU 1400
            bytes);
    }

    [Fact]
    public void Veth_pair_with_the_peer_created_in_another_namespace()
    {
        var bytes = Encode(Rtm.NEWLINK, Request | Nlmsg.NLM_F_CREATE | Nlmsg.NLM_F_EXCL, 3,
            w => LinkCodec.WriteVethPair(w, "veth0", "eth0", peerNamespaceFd: 5, mtu: null));

        Assert.Equal(Hex.Bytes(
            "64000000 1000 0506 03000000 00000000",     // len 100, RTM_NEWLINK 16, REQUEST|ACK|EXCL|CREATE, seq 3
            "00 00 0000 00000000 00000000 00000000",    // ifinfomsg: AF_UNSPEC, type 0, index 0, flags 0, change 0
            "0a00 0300 7665746830 00 0000",             // IFLA_IFNAME "veth0\0" (len 10, padded to 12)
            "3800 1200",                                // IFLA_LINKINFO (18), 56 bytes
            "0800 0100 76657468",                       //   IFLA_INFO_KIND "veth" (no terminator, as iproute2)
            "2c00 0200",                                //   IFLA_INFO_DATA, 44 bytes
            "2800 0100",                                //     VETH_INFO_PEER, 40 bytes
            "00 00 0000 00000000 00000000 00000000",    //       the peer's ifinfomsg
            "0900 0300 65746830 00 000000",             //       IFLA_IFNAME "eth0\0" (len 9, padded to 12)
            "0800 1c00 05000000"),                      //       IFLA_NET_NS_FD (28) = fd 5
            bytes);
    }

    [Fact]
    public void Vxlan_fdb_entry_with_remote_port_and_vni()
    {
        var entry = new FdbEntry(7, PhysicalAddress.Parse("00-00-00-00-00-00"), IPAddress.Parse("192.168.1.12"), Vni: 42, Port: 8472);

        var bytes = Encode(Rtm.NEWNEIGH, Request | Nlmsg.NLM_F_CREATE | Nlmsg.NLM_F_APPEND, 4, w => NeighborCodec.WriteFdb(w, entry));

        Assert.Equal(Hex.Bytes(
            "40000000 1c00 050c 04000000 00000000", // len 64, RTM_NEWNEIGH 28, REQUEST|ACK|CREATE|APPEND = 0xc05, seq 4
            "07 00 0000",                           // ndmsg: AF_BRIDGE, pad
            "07000000",                             // ifindex 7
            "8000 02 00",                           // NUD_PERMANENT, NTF_SELF, type 0
            "0a00 0200 000000000000 0000",          // NDA_LLADDR 00:00:00:00:00:00 (len 10, padded)
            "0800 0100 c0a8010c",                   // NDA_DST 192.168.1.12
            "0600 0600 2118 0000",                  // NDA_PORT 8472, network byte order
            "0800 0700 2a000000"),                  // NDA_VNI 42
            bytes);
    }

    [Fact]
    public void Ipv4_address_carries_local_and_address()
    {
        var bytes = Encode(Rtm.NEWADDR, Request | Nlmsg.NLM_F_CREATE | Nlmsg.NLM_F_EXCL, 5,
            w => AddressCodec.Write(w, 4, Trellis.Addressing.IpPrefix.Parse("10.244.1.1/24")));

        Assert.Equal(Hex.Bytes(
            "28000000 1400 0506 05000000 00000000", // len 40, RTM_NEWADDR 20, seq 5
            "02 18 00 00 04000000",                 // ifaddrmsg: AF_INET, /24, flags 0, scope universe, index 4
            "0800 0200 0af40101",                   // IFA_LOCAL 10.244.1.1
            "0800 0100 0af40101"),                  // IFA_ADDRESS 10.244.1.1
            bytes);
    }

    [Fact]
    public void Several_messages_follow_one_another_in_one_buffer()
    {
        var writer = new NetlinkMessageWriter(capacity: 8);
        writer.BeginMessage(Rtm.DELLINK, Request, 9);
        LinkCodec.WriteSelector(writer, 3);
        writer.EndMessage();
        writer.BeginMessage(Rtm.DELLINK, Request, 10);
        LinkCodec.WriteSelector(writer, 4);
        writer.EndMessage();

        Assert.Equal(2, writer.MessageCount);
        Assert.Equal(Hex.Bytes(
            "20000000 1100 0500 09000000 00000000 00 00 0000 03000000 00000000 00000000",
            "20000000 1100 0500 0a000000 00000000 00 00 0000 04000000 00000000 00000000"),
            writer.Written.ToArray());
    }
}
