using Trellis.Addressing;
using System.Net;
using System.Net.NetworkInformation;
using Trellis.Netlink.Messages;
using Xunit;

namespace Trellis.Netlink.Tests;

/// <summary>Replies captured once from a 6.18 kernel (route dump, bridge fdb dump, a refused request) and decoded here.</summary>
public sealed class MessageDecodingTests
{
    // ip route add 10.244.2.0/24 via 192.168.1.12 dev up0 proto 150 metric 100 table 100 mtu 1400 onlink
    private static readonly byte[] CapturedRoute = Hex.Bytes(
        "50000000 1800 0200 01000000 6b700000", // RTM_NEWROUTE, NLM_F_MULTI, seq 1, our port id
        "02 18 00 00 64 96 00 01 04000000",     // AF_INET /24, table 100, proto 150, universe, unicast, RTNH_F_ONLINK
        "0800 0f00 64000000",                   // RTA_TABLE 100
        "0800 0100 0af40200",                   // RTA_DST
        "0800 0600 64000000",                   // RTA_PRIORITY
        "0c00 0800 0800 0200 78050000",         // RTA_METRICS { RTAX_MTU 1400 }
        "0800 0500 c0a8010c",                   // RTA_GATEWAY
        "0800 0400 02000000");                  // RTA_OIF 2

    // bridge fdb append 00:00:00:00:00:00 dev vx1 dst 192.168.1.12
    private static readonly byte[] CapturedFdb = Hex.Bytes(
        "44000000 1c00 0200 02000000 6b700000",
        "07 00 0000 03000000 c000 02 01",       // AF_BRIDGE, ifindex 3, NUD_NOARP|NUD_PERMANENT, NTF_SELF
        "0a00 0200 000000000000 0000",          // NDA_LLADDR
        "0800 0100 c0a8010c",                   // NDA_DST
        "1400 0300 00000000 11000000 11000000 00000000"); // NDA_CACHEINFO, ignored

    // RTM_NEWROUTE for 10.244.9.5/24 (host bits set) on a socket with NETLINK_CAP_ACK and NETLINK_EXT_ACK
    private static readonly byte[] CapturedError = Hex.Bytes(
        "50000000 0200 0003 07000000 8f710000", // NLMSG_ERROR, NLM_F_CAPPED|NLM_F_ACK_TLVS, seq 7
        "eaffffff",                             // -EINVAL
        "24000000 1800 0506 07000000 00000000", // the request's header only (capped)
        "2b00 0100 496e76616c69642070726566697820666f7220676976656e20707265666978206c656e677468 00 00");
                                                // NLMSGERR_ATTR_MSG "Invalid prefix for given prefix length\0"

    [Fact]
    public void Captured_route_decodes_every_field()
    {
        var reader = new NetlinkMessageReader(CapturedRoute);
        Assert.True(reader.MoveNext());
        var route = RouteCodec.Decode(reader.Current);
        Assert.False(reader.MoveNext());

        Assert.Equal(new Route
        {
            Destination = Cidr.Parse("10.244.2.0/24"),
            Gateway = IPAddress.Parse("192.168.1.12"),
            OutputLinkIndex = 2,
            OnLink = true,
            Table = 100,
            Protocol = 150,
            Priority = 100,
            Mtu = 1400,
        }, route);
    }

    [Fact]
    public void Captured_fdb_entry_decodes()
    {
        var reader = new NetlinkMessageReader(CapturedFdb);
        Assert.True(reader.MoveNext());

        Assert.Equal(Nlmsg.NLM_F_MULTI, reader.Current.Flags);
        Assert.Equal(0x706bu, reader.Current.PortId);
        Assert.Equal(
            new FdbEntry(3, PhysicalAddress.Parse("00-00-00-00-00-00"), IPAddress.Parse("192.168.1.12"), NeighborState.NoArp | NeighborState.Permanent),
            NeighborCodec.DecodeFdb(reader.Current));
        Assert.Null(NeighborCodec.DecodeNeighbor(reader.Current));
    }

    [Fact]
    public void Captured_error_yields_the_errno_and_the_kernels_explanation()
    {
        var reader = new NetlinkMessageReader(CapturedError);
        Assert.True(reader.MoveNext());

        var (errno, text) = NetlinkSocket.ParseError(reader.Current);

        Assert.Equal(Trellis.Linux.Errno.EINVAL, errno);
        Assert.Equal("Invalid prefix for given prefix length", text);
        Assert.Equal("add route 10.244.9.5/24: EINVAL (Invalid prefix for given prefix length)",
            new NetlinkException("add route 10.244.9.5/24", errno, text).Message);
    }

    [Fact]
    public void Several_messages_in_one_datagram_are_walked_in_order()
    {
        var datagram = CapturedRoute.Concat(CapturedFdb).ToArray();
        var types = new List<ushort>();
        foreach (var message in new NetlinkMessageReader(datagram)) types.Add(message.Type);

        Assert.Equal([Rtm.NEWROUTE, Rtm.NEWNEIGH], types);
    }

    [Fact]
    public void Truncated_input_is_refused_rather_than_read_past_its_end()
    {
        var truncated = CapturedRoute[..40];
        Assert.Throws<InvalidDataException>(() =>
        {
            var reader = new NetlinkMessageReader(truncated);
            reader.MoveNext();
        });

        var badAttribute = CapturedRoute.ToArray();
        badAttribute[28] = 0xff; // first attribute claims 255 bytes
        Assert.Throws<InvalidDataException>(() =>
        {
            var reader = new NetlinkMessageReader(badAttribute);
            reader.MoveNext();
            RouteCodec.Decode(reader.Current);
        });
    }

    [Fact]
    public void Encoded_route_decodes_back_to_itself()
    {
        var route = new Route
        {
            Destination = Cidr.Parse("fd00:10:244:2::/80"),
            Gateway = IPAddress.Parse("fd00:1::12"),
            OutputLinkIndex = 9,
            Scope = RouteScope.Universe,
            Table = 4000,
            Protocol = 150,
            Priority = 1024,
            PreferredSource = IPAddress.Parse("fd00:1::11"),
            Mtu = 1450,
            Type = RouteType.Unicast,
        };
        var writer = new NetlinkMessageWriter();
        writer.BeginMessage(Rtm.NEWROUTE, 0, 1);
        RouteCodec.Write(writer, route);
        writer.EndMessage();

        var reader = new NetlinkMessageReader(writer.Written);
        Assert.True(reader.MoveNext());
        Assert.Equal(route, RouteCodec.Decode(reader.Current));
    }
}
