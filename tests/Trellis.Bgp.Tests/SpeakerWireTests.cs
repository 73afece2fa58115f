using System.Net;
using System.Net.Sockets;
using Trellis.Addressing;
using Trellis.Bgp.Messages;
using Trellis.Bgp.Session;
using Trellis.Bgp.Speaker;
using Trellis.Netlink;
using Trellis.Testing;
using Xunit;

namespace Trellis.Bgp.Tests;

/// <summary>
/// The speaker over real TCP, with the test playing a router byte by byte (inside a namespace's
/// loopback): what no real router sends, malformed input, must come back as the right NOTIFICATION.
/// </summary>
public sealed class SpeakerWireTests : IDisposable
{
    private static readonly IPAddress PeerAddress = IPAddress.Parse("127.0.0.2");
    private readonly NetworkNamespace _ns = NetworkNamespace.Create("bgp-wire");

    public void Dispose() => _ns.Dispose();

    [Fact]
    public async Task A_scripted_router_gets_routes_refresh_and_the_notification_for_its_malformed_update()
    {
        await using var speaker = Start([Cidr.Parse("10.244.1.0/24"), Cidr.Parse("fd00:10:244:1::/64")]);
        using var router = Connect(PeerAddress);

        var open = Assert.IsType<OpenMessage>(Read(router));
        Assert.Equal(64512u, open.Asn);
        Send(router, OpenMessage.Create(65000, 9, IPAddress.Parse("10.0.0.2"),
            [new MultiprotocolCapability(AfiSafi.IPv4Unicast), new MultiprotocolCapability(AfiSafi.IPv6Unicast), new RouteRefreshCapability()]));
        Send(router, KeepaliveMessage.Instance);
        Assert.IsType<KeepaliveMessage>(Read(router));

        var announced = new List<(AfiSafi, Cidr)>();
        var endOfRib = new HashSet<AfiSafi>();
        while (endOfRib.Count < 2)
        {
            var update = Assert.IsType<UpdateMessage>(Read(router));
            if (update.IsEndOfRib(out var family)) endOfRib.Add(family);
            else announced.AddRange(update.Announced());
        }
        Assert.Equal([(AfiSafi.IPv4Unicast, Cidr.Parse("10.244.1.0/24")), (AfiSafi.IPv6Unicast, Cidr.Parse("fd00:10:244:1::/64"))], announced);
        Eventually(() => speaker.Status[0] is { State: SessionState.Established, PrefixesSent: 2 });

        // An ORIGIN of two octets: RFC 7606 treat-as-withdraw, the session stays up and counts nothing.
        SendRaw(router, "0000" + "0015" + "40010200" + "00" + "40020602010000fde8" + "4003040a000002" + "10" + "0a09");
        Send(router, new RouteRefreshMessage(AfiSafi.IPv4Unicast));
        var refreshed = Assert.IsType<UpdateMessage>(Read(router));
        Assert.Equal([Cidr.Parse("10.244.1.0/24")], refreshed.Nlri);
        Assert.Equal(0, speaker.Status[0].PrefixesReceived);
        Send(router, new UpdateMessage([], [new OriginAttribute(Origin.Igp), new AsPathAttribute([new AsPathSegment(AsPathSegmentType.AsSequence, [65000])]),
            new NextHopAttribute(IPAddress.Parse("10.0.0.2"))], [Cidr.Parse("10.9.0.0/16")]));
        Eventually(() => speaker.Status[0].PrefixesReceived == 1);

        // A total path attribute length past the end of the message: Malformed Attribute List, then the close.
        SendRaw(router, "0000" + "0100" + "40010100");
        var notification = Assert.IsType<NotificationMessage>(Read(router));
        Assert.Equal((NotificationMessage.UpdateMessageError, (byte)1), (notification.Code, notification.Subcode));
        Assert.Equal(0, router.Receive(new byte[1]));
        Eventually(() => speaker.Status[0].LastError?.Contains("malformed message from 127.0.0.2: total path attribute length 256") == true);
    }

    [Fact]
    public async Task A_connection_from_an_address_that_is_no_peer_is_closed()
    {
        await using var speaker = Start([]);
        using var stranger = Connect(IPAddress.Parse("127.0.0.3"));
        stranger.ReceiveTimeout = 5000;
        Assert.Equal(0, stranger.Receive(new byte[19]));
    }

    private BgpSpeaker Start(Cidr[] prefixes)
    {
        var speaker = BgpSpeaker.Start(new BgpSpeakerOptions
        {
            SocketFactory = family => NetworkNamespaceRunner.Run(_ns.Path, () => new Socket(family, SocketType.Stream, ProtocolType.Tcp)),
            ConnectRetryMinimum = TimeSpan.FromSeconds(30),
        });
        speaker.Apply(new BgpConfiguration(64512, IPAddress.Parse("10.0.0.1"),
            [new BgpPeer(PeerAddress, 65000, HoldTime: TimeSpan.FromSeconds(9))], prefixes, IPAddress.Parse("10.0.0.1"), IPAddress.Parse("fd00::1")));
        Eventually(() => speaker.Status.Count == 1);
        return speaker;
    }

    private Socket Connect(IPAddress from) => NetworkNamespaceRunner.Run(_ns.Path, () =>
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 10_000 };
        socket.Bind(new IPEndPoint(from, 0));
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                socket.Connect(new IPEndPoint(IPAddress.Loopback, 179));
                return socket;
            }
            catch (SocketException) when (attempt < 50)
            {
                Thread.Sleep(100);
            }
        }
    });

    private static void Send(Socket socket, BgpMessage message) => socket.Send(BgpCodec.Encode(message, CodecOptions.FourOctet));

    private static void SendRaw(Socket socket, string updateBodyHex)
    {
        var body = Convert.FromHexString(updateBodyHex);
        var message = new byte[19 + body.Length];
        Array.Fill(message, (byte)0xFF, 0, 16);
        message[16] = (byte)(message.Length >> 8);
        message[17] = (byte)message.Length;
        message[18] = (byte)MessageType.Update;
        body.CopyTo(message, 19);
        socket.Send(message);
    }

    private static BgpMessage Read(Socket socket)
    {
        var header = ReadExactly(socket, 19);
        int length = BgpCodec.FrameLength(header);
        var message = header.Concat(ReadExactly(socket, length - 19)).ToArray();
        return BgpCodec.Decode(message, CodecOptions.FourOctet);
    }

    private static byte[] ReadExactly(Socket socket, int count)
    {
        var buffer = new byte[count];
        for (int read = 0; read < count;)
        {
            int got = socket.Receive(buffer, read, count - read, SocketFlags.None);
            if (got == 0) throw new Xunit.Sdk.XunitException("the speaker closed the connection");
            read += got;
        }
        return buffer;
    }

    private static void Eventually(Func<bool> condition) =>
        Interop.Eventually.True(condition, TimeSpan.FromSeconds(10), () => "the speaker's status");
}
