using System.Net;
using Trellis.Addressing;
using Trellis.Bgp.Messages;
using Trellis.Bgp.Routing;
using Xunit;

namespace Trellis.Bgp.Tests;

public sealed class AdjRibOutTests
{
    private static readonly IPAddress HopV4 = IPAddress.Parse("192.168.1.11");
    private static readonly IPAddress HopV6 = IPAddress.Parse("fd00:1::11");

    private static Dictionary<Cidr, IPAddress> Routes(params string[] prefixes) =>
        prefixes.Select(Cidr.Parse).ToDictionary(p => p, p => p.IsIPv4 ? HopV4 : HopV6);

    [Fact]
    public void First_sync_announces_everything_then_end_of_rib_per_family()
    {
        var rib = new AdjRibOut(CapturedMessageTests.Session(internalPeer: false), 64512);
        var updates = rib.Sync(Routes("10.244.1.0/24", "10.244.9.0/24", "fd00:10:244:1::/64"), endOfRib: true);

        Assert.Equal(4, updates.Count);
        Assert.Equal([Cidr.Parse("10.244.1.0/24"), Cidr.Parse("10.244.9.0/24")], updates[0].Nlri);
        Assert.Equal(HopV4, updates[0].Find<NextHopAttribute>()!.NextHop);
        Assert.Equal([64512u], updates[0].Find<AsPathAttribute>()!.Asns);
        Assert.Null(updates[0].Find<LocalPrefAttribute>());
        var reach = updates[1].Find<MpReachNlriAttribute>()!;
        Assert.Equal([HopV6], reach.NextHops);
        Assert.Equal([Cidr.Parse("fd00:10:244:1::/64")], reach.Nlri);
        Assert.Null(updates[1].Find<NextHopAttribute>());
        Assert.True(updates[2].IsEndOfRib(out var first) && first == AfiSafi.IPv4Unicast);
        Assert.True(updates[3].IsEndOfRib(out var second) && second == AfiSafi.IPv6Unicast);
        Assert.Equal(3, rib.Count);
    }

    [Fact]
    public void Later_syncs_send_only_the_difference()
    {
        var rib = new AdjRibOut(CapturedMessageTests.Session(internalPeer: false), 64512);
        rib.Sync(Routes("10.244.1.0/24", "10.244.9.0/24", "fd00:10:244:1::/64"), endOfRib: true);

        Assert.Empty(rib.Sync(Routes("10.244.1.0/24", "10.244.9.0/24", "fd00:10:244:1::/64"), endOfRib: false));
        var updates = rib.Sync(Routes("10.244.1.0/24", "10.244.2.0/24"), endOfRib: false);
        Assert.Equal([Cidr.Parse("10.244.9.0/24")], updates[0].Withdrawn);
        Assert.Equal([(AfiSafi.IPv6Unicast, Cidr.Parse("fd00:10:244:1::/64"))], updates[1].WithdrawnRoutes());
        Assert.Equal([Cidr.Parse("10.244.2.0/24")], updates[2].Nlri);
        Assert.Equal(2, rib.Count);
    }

    [Fact]
    public void A_new_next_hop_reannounces_without_withdrawing()
    {
        var rib = new AdjRibOut(CapturedMessageTests.Session(internalPeer: false), 64512);
        rib.Sync(Routes("10.244.1.0/24"), endOfRib: false);
        var update = Assert.Single(rib.Sync(new Dictionary<Cidr, IPAddress> { [Cidr.Parse("10.244.1.0/24")] = IPAddress.Parse("192.168.1.99") }, endOfRib: false));
        Assert.Equal(IPAddress.Parse("192.168.1.99"), update.Find<NextHopAttribute>()!.NextHop);
        Assert.Empty(update.Withdrawn);
    }

    [Fact]
    public void Ibgp_routes_carry_local_pref_and_an_empty_path()
    {
        var rib = new AdjRibOut(CapturedMessageTests.Session(internalPeer: true), 64512);
        var update = rib.Sync(Routes("10.244.1.0/24"), endOfRib: false)[0];
        Assert.Equal(100u, update.Find<LocalPrefAttribute>()!.Value);
        Assert.Empty(update.Find<AsPathAttribute>()!.Segments);
    }

    [Fact]
    public void A_two_octet_peer_gets_as_trans_and_as4_path()
    {
        var rib = new AdjRibOut(CapturedMessageTests.Session(internalPeer: false, fourOctetAs: false), 4200000001);
        var update = rib.Sync(Routes("10.244.1.0/24"), endOfRib: false)[0];
        var bytes = BgpCodec.Encode(update, CodecOptions.TwoOctet);
        var decoded = (UpdateMessage)BgpCodec.Decode(bytes, CodecOptions.TwoOctet);
        Assert.Equal([(uint)OpenMessage.AsTrans], decoded.Find<AsPathAttribute>()!.Asns);
        Assert.Equal(Convert.FromHexString("0201fa56ea01"), decoded.Attributes.OfType<RawAttribute>().Single(a => a.Code == 17).Value);
    }

    [Fact]
    public void Families_the_peer_lacks_and_routes_without_a_next_hop_of_their_family_are_not_sent()
    {
        var v4Only = CapturedMessageTests.Session(internalPeer: false) with { Families = [AfiSafi.IPv4Unicast] };
        var rib = new AdjRibOut(v4Only, 64512);
        var updates = rib.Sync(new Dictionary<Cidr, IPAddress>
        {
            [Cidr.Parse("10.244.1.0/24")] = HopV4,
            [Cidr.Parse("10.244.2.0/24")] = HopV6,
            [Cidr.Parse("fd00:10:244:1::/64")] = HopV6,
        }, endOfRib: true);
        Assert.Equal([Cidr.Parse("10.244.1.0/24")], updates[0].Nlri);
        Assert.Equal(2, updates.Count);
        Assert.Empty(rib.Resend(AfiSafi.IPv6Unicast));
        Assert.Single(rib.Resend(AfiSafi.IPv4Unicast));
    }

    [Fact]
    public void Thousands_of_prefixes_are_packed_into_messages_within_4096_octets()
    {
        var routes = Enumerable.Range(0, 3000).Select(i => Cidr.Parse($"10.{i / 256}.{i % 256}.0/24"))
            .Concat(Enumerable.Range(0, 1500).Select(i => Cidr.Parse($"fd00:10:244:{i:x}::/64")))
            .ToDictionary(p => p, p => p.IsIPv4 ? HopV4 : HopV6);
        var rib = new AdjRibOut(CapturedMessageTests.Session(internalPeer: false), 64512);
        var updates = rib.Sync(routes, endOfRib: false);
        var withdrawals = rib.Sync(new Dictionary<Cidr, IPAddress>(), endOfRib: false);

        foreach (var update in updates.Concat(withdrawals))
        {
            var bytes = BgpCodec.Encode(update, CodecOptions.FourOctet);
            Assert.InRange(bytes.Length, 19, BgpCodec.MaxMessageLength);
            BgpCodec.Decode(bytes, CodecOptions.FourOctet);
        }
        Assert.Equal(4500, updates.Sum(u => u.Announced().Count()));
        Assert.Equal(4500, withdrawals.Sum(u => u.WithdrawnRoutes().Count()));
        Assert.True(updates.Count < 20, $"{updates.Count} messages");
    }

    [Fact]
    public void The_received_side_counts_routes_and_end_of_rib()
    {
        var rib = new AdjRibIn();
        rib.Apply(new UpdateMessage([], [new OriginAttribute(Origin.Igp)], [Cidr.Parse("10.1.0.0/16"), Cidr.Parse("10.2.0.0/16")]));
        rib.Apply(new UpdateMessage([], [new MpReachNlriAttribute(AfiSafi.IPv6Unicast, [HopV6], [Cidr.Parse("fd00::/64")])], []));
        Assert.Equal(3, rib.Count);
        rib.Apply(new UpdateMessage([Cidr.Parse("10.1.0.0/16")], [], []));
        rib.Apply(new UpdateMessage([], [], [Cidr.Parse("10.2.0.0/16")])
        {
            TreatAsWithdraw = new MalformedMessageException(new NotificationMessage(3, 5), "ORIGIN of 2 octets"),
        });
        Assert.Equal(1, rib.Count);
        rib.Apply(UpdateMessage.EndOfRib(AfiSafi.IPv6Unicast));
        Assert.Contains(AfiSafi.IPv6Unicast, rib.EndOfRibReceived);
    }
}
