using Trellis.Netlink.Messages;
using Xunit;

namespace Trellis.Netlink.Tests;

/// <summary>Whatever arrives, decoders either produce a value or refuse with InvalidDataException; nothing else escapes.</summary>
public sealed class MalformedInputTests
{
    private static readonly byte[] Route = Hex.Bytes(
        "50000000 1800 0200 01000000 6b700000 02 18 00 00 64 96 00 01 04000000 0800 0f00 64000000 0800 0100 0af40200",
        "0800 0600 64000000 0c00 0800 0800 0200 78050000 0800 0500 c0a8010c 0800 0400 02000000");

    [Fact]
    public void Corrupted_messages_decode_or_are_refused_cleanly()
    {
        var random = new Random(20261124);
        var decoders = new Func<NetlinkMessage, object?>[]
        {
            m => RouteCodec.Decode(m), m => LinkCodec.Decode(m), m => AddressCodec.Decode(m),
            m => NeighborCodec.DecodeNeighbor(m), m => NeighborCodec.DecodeFdb(m),
            m => NetlinkSocket.ParseError(m),
        };
        int refused = 0;
        for (int round = 0; round < 20_000; round++)
        {
            var bytes = (byte[])Route.Clone();
            for (int flips = random.Next(1, 6); flips > 0; flips--)
                bytes[random.Next(0, bytes.Length)] = (byte)random.Next(256);
            var type = (ushort)random.Next(16, 32);
            bytes[4] = (byte)type;
            var decode = decoders[round % decoders.Length];
            try
            {
                foreach (var message in new NetlinkMessageReader(bytes)) decode(message);
            }
            catch (InvalidDataException)
            {
                refused++;
            }
        }
        Assert.InRange(refused, 1, 19_999);
    }

    [Fact]
    public void Route_with_a_prefix_longer_than_its_family_allows_is_refused()
    {
        var bytes = (byte[])Route.Clone();
        bytes[17] = 33;

        var reader = new NetlinkMessageReader(bytes);
        Assert.True(reader.MoveNext());
        var message = reader.Current;
        try
        {
            RouteCodec.Decode(message);
            Assert.Fail("a /33 IPv4 route was accepted");
        }
        catch (InvalidDataException error)
        {
            Assert.Contains("/33", error.Message);
        }
    }
}
