using System.Net;
using Trellis.Addressing;
using Trellis.Bgp.Messages;
using Trellis.Bgp.Routing;
using Trellis.Bgp.Session;
using Xunit;

namespace Trellis.Bgp.Tests;

/// <summary>The codec against what FRR, BIRD and GoBGP really sent (Captured/README.md says how it was captured).</summary>
public sealed class CapturedMessageTests
{
    public static TheoryData<string> Routers => new(CapturedMessages.Routers);

    [Theory]
    [MemberData(nameof(Routers))]
    public void Every_captured_message_decodes_and_encodes_to_the_same_bytes(string router)
    {
        var messages = CapturedMessages.Of(router);
        Assert.NotEmpty(messages);
        foreach (var captured in messages)
        {
            var decoded = BgpCodec.Decode(captured.Bytes, CodecOptions.FourOctet);
            Assert.Equal(captured.Type, decoded.Type switch
            {
                MessageType.RouteRefresh => "ROUTE-REFRESH",
                var type => type.ToString().ToUpperInvariant(),
            });
            if (decoded is UpdateMessage update) Assert.Null(update.TreatAsWithdraw);
            Assert.Equal(Convert.ToHexStringLower(captured.Bytes), Convert.ToHexStringLower(BgpCodec.Encode(decoded, CodecOptions.FourOctet)));
        }
    }

    [Theory]
    [MemberData(nameof(Routers))]
    public void Each_router_sent_every_message_type_the_speaker_must_understand(string router)
    {
        var types = CapturedMessages.Of(router).Select(m => m.Type).ToHashSet();
        Assert.Superset(new HashSet<string> { "OPEN", "KEEPALIVE", "UPDATE", "NOTIFICATION" }, types);
    }

    [Fact]
    public void Frr_open_carries_multiprotocol_graceful_restart_and_four_octet_as()
    {
        var open = (OpenMessage)Decode(CapturedMessages.Of(CapturedMessages.Frr).First(m => m is { Type: "OPEN", Receiver: "10.99.0.2" }));

        Assert.Equal(65001u, open.Asn);
        Assert.Equal(3, open.HoldTimeSeconds);
        Assert.Equal(IPAddress.Parse("10.99.0.1"), open.RouterId);
        Assert.Equal([AfiSafi.IPv4Unicast], open.Families);
        Assert.True(open.SupportsFourOctetAs);
        var gr = open.GracefulRestart!;
        Assert.True(gr.RestartState);
        Assert.Equal(120, gr.RestartTimeSeconds);
        Assert.Contains(open.Capabilities, c => c is RouteRefreshCapability);
        // FRR also sends extended message, enhanced route refresh, ADD-PATH, FQDN...: kept as unknown.
        Assert.Contains(open.Capabilities, c => c is UnknownCapability { Code: 73 });
    }

    [Fact]
    public void GoBgp_open_from_a_four_octet_as_sends_as_trans()
    {
        var open = (OpenMessage)Decode(CapturedMessages.Of(CapturedMessages.GoBgp).First(m => m.Type == "OPEN"));

        Assert.Equal(OpenMessage.AsTrans, open.MyAs);
        Assert.Equal(4200000003u, open.Asn);
        Assert.Equal(30, open.GracefulRestart!.RestartTimeSeconds);
        Assert.Equal([GracefulRestartFamily.Preserved(AfiSafi.IPv4Unicast) with { Flags = 0 }], open.GracefulRestart.Families);
    }

    [Fact]
    public void Bird_update_with_a_community()
    {
        var update = (UpdateMessage)Decode(CapturedMessages.Find(CapturedMessages.Bird, "UPDATE", "4003040a630002c00804fdea0007190a3c0200"));

        Assert.Equal([Cidr.Parse("10.60.2.0/25")], update.Nlri);
        Assert.Equal(Origin.Igp, update.Find<OriginAttribute>()!.Origin);
        Assert.Equal([65002u], update.Find<AsPathAttribute>()!.Asns);
        Assert.Equal(IPAddress.Parse("10.99.0.2"), update.Find<NextHopAttribute>()!.NextHop);
        Assert.Equal(Convert.FromHexString("fdea0007"), update.Attributes.OfType<RawAttribute>().Single(a => a.Code == 8).Value);
    }

    [Fact]
    public void GoBgp_update_with_med_from_a_four_octet_as()
    {
        var update = (UpdateMessage)Decode(CapturedMessages.Find(CapturedMessages.GoBgp, "UPDATE", "8004040000001e"));

        Assert.Equal([Cidr.Parse("10.70.2.0/24")], update.Nlri);
        Assert.Equal(Origin.Incomplete, update.Find<OriginAttribute>()!.Origin);
        Assert.Equal([4200000003u], update.Find<AsPathAttribute>()!.Asns);
        Assert.Equal(30u, update.Find<MultiExitDiscAttribute>()!.Value);
    }

    [Fact]
    public void Frr_ipv6_update_has_a_global_and_a_link_local_next_hop()
    {
        var update = (UpdateMessage)Decode(CapturedMessages.Find(CapturedMessages.Frr, "UPDATE", "0040fd5000010000000030fd50"));

        var reach = update.Find<MpReachNlriAttribute>()!;
        Assert.Equal(AfiSafi.IPv6Unicast, reach.Family);
        Assert.Equal(IPAddress.Parse("fd99::1"), reach.NextHops[0]);
        Assert.True(reach.NextHops[1].IsIPv6LinkLocal);
        Assert.Equal([Cidr.Parse("fd50:1::/64"), Cidr.Parse("fd50:2::/48")], reach.Nlri);
        Assert.Equal([(AfiSafi.IPv6Unicast, Cidr.Parse("fd50:1::/64")), (AfiSafi.IPv6Unicast, Cidr.Parse("fd50:2::/48"))], update.Announced());
    }

    [Fact]
    public void End_of_rib_markers_from_every_router_are_recognised()
    {
        foreach (var router in CapturedMessages.Routers)
        {
            var markers = CapturedMessages.Of(router).Where(m => m.Type == "UPDATE")
                .Select(m => (UpdateMessage)Decode(m))
                .Where(u => u.IsEndOfRib(out _))
                .Select(u => u.IsEndOfRib(out var family) ? family : default)
                .ToHashSet();
            Assert.Contains(AfiSafi.IPv6Unicast, markers);
            if (router != CapturedMessages.GoBgp) Assert.Contains(AfiSafi.IPv4Unicast, markers);
        }
    }

    [Fact]
    public void Notifications_read_as_words()
    {
        var frr = CapturedMessages.Of(CapturedMessages.Frr).Where(m => m.Type == "NOTIFICATION").Select(m => ((NotificationMessage)Decode(m)).Describe()).ToList();
        Assert.Contains("Cease / Administrative Shutdown: \"maintenance\"", frr);
        Assert.Contains("OPEN Message Error / Bad Peer AS (data 5ba0)", frr);
        Assert.Equal("Cease / Administrative Reset",
            ((NotificationMessage)Decode(CapturedMessages.Of(CapturedMessages.GoBgp).Single(m => m.Type == "NOTIFICATION"))).Describe());
    }

    [Fact]
    public void Withdrawals_decode_per_family()
    {
        var v4 = (UpdateMessage)Decode(CapturedMessages.Find(CapturedMessages.Frr, "UPDATE", "001f020008180a3201180a46010000"));
        Assert.Equal([Cidr.Parse("10.50.1.0/24"), Cidr.Parse("10.70.1.0/24")], v4.Withdrawn);
        var v6 = (UpdateMessage)Decode(CapturedMessages.Find(CapturedMessages.GoBgp, "UPDATE", "800f0c00020140fd70"));
        Assert.Equal([(AfiSafi.IPv6Unicast, Cidr.Parse("fd70:1::/64"))], v6.WithdrawnRoutes());
    }

    // ---- what this speaker sends, byte for byte as the routers sent it ----

    [Fact]
    public void Keepalive_is_the_same_bytes_every_router_sends()
    {
        foreach (var router in CapturedMessages.Routers)
            Assert.Equal(CapturedMessages.Of(router).Single(m => m.Type == "KEEPALIVE").Bytes, BgpCodec.Encode(KeepaliveMessage.Instance, CodecOptions.FourOctet));
    }

    [Fact]
    public void End_of_rib_is_the_same_bytes_the_routers_send()
    {
        Assert.Equal(CapturedMessages.Find(CapturedMessages.Bird, "UPDATE", "00170200000000").Bytes,
            BgpCodec.Encode(UpdateMessage.EndOfRib(AfiSafi.IPv4Unicast), CodecOptions.FourOctet));
        foreach (var router in CapturedMessages.Routers)
            Assert.Equal(CapturedMessages.Find(router, "UPDATE", "001d0200000006800f03000201").Bytes,
                BgpCodec.Encode(UpdateMessage.EndOfRib(AfiSafi.IPv6Unicast), CodecOptions.FourOctet));
    }

    [Fact]
    public void An_ebgp_announcement_is_the_same_bytes_bird_sends()
    {
        // BIRD (AS 65002, 10.99.0.2) announced its static 10.60.1.0/24 to FRR with exactly our attributes.
        var rib = new AdjRibOut(Session(internalPeer: false), localAsn: 65002);
        var updates = rib.Sync(new Dictionary<Cidr, IPAddress> { [Cidr.Parse("10.60.1.0/24")] = IPAddress.Parse("10.99.0.2") }, endOfRib: false);

        Assert.Equal(CapturedMessages.Find(CapturedMessages.Bird, "UPDATE", "002f02000000144001010040020602010000fdea4003040a630002180a3c01").Bytes,
            BgpCodec.Encode(Assert.Single(updates), CodecOptions.FourOctet));
    }

    [Fact]
    public void Withdrawals_are_the_same_bytes_the_routers_send()
    {
        var rib = new AdjRibOut(Session(internalPeer: false), localAsn: 64512);
        rib.Sync(new Dictionary<Cidr, IPAddress>
        {
            [Cidr.Parse("10.70.1.0/24")] = IPAddress.Parse("10.99.0.9"),
            [Cidr.Parse("fd70:1::/64")] = IPAddress.Parse("fd99::9"),
        }, endOfRib: false);
        var withdrawals = rib.Sync(new Dictionary<Cidr, IPAddress>(), endOfRib: false).Select(u => BgpCodec.Encode(u, CodecOptions.FourOctet)).ToList();

        Assert.Equal(CapturedMessages.Find(CapturedMessages.Bird, "UPDATE", "001b020004180a46010000").Bytes, withdrawals[0]);
        Assert.Equal(CapturedMessages.Find(CapturedMessages.GoBgp, "UPDATE", "0026020000000f800f0c00020140fd70000100000000").Bytes, withdrawals[1]);
    }

    [Fact]
    public void Route_refresh_and_shutdown_notification_are_the_same_bytes_frr_sends()
    {
        Assert.Equal(CapturedMessages.Find(CapturedMessages.Frr, "ROUTE-REFRESH", "00170500010001").Bytes,
            BgpCodec.Encode(new RouteRefreshMessage(AfiSafi.IPv4Unicast), CodecOptions.FourOctet));
        Assert.Equal(CapturedMessages.Find(CapturedMessages.Frr, "NOTIFICATION", "0306020b").Bytes,
            BgpCodec.Encode(NotificationMessage.CeaseWith(CeaseSubcode.AdministrativeShutdown, "maintenance"), CodecOptions.FourOctet));
    }

    [Fact]
    public void Our_open_decodes_as_the_routers_would_read_it()
    {
        var settings = new SessionSettings(4200000001, IPAddress.Parse("192.168.1.11"), IPAddress.Parse("192.168.1.1"), 65000,
            TimeSpan.FromSeconds(90), [AfiSafi.IPv4Unicast, AfiSafi.IPv6Unicast], new GracefulRestartSettings(TimeSpan.FromSeconds(120)));
        var bytes = BgpCodec.Encode(settings.CreateOpen(restarting: true), CodecOptions.FourOctet);
        var open = (OpenMessage)BgpCodec.Decode(bytes, CodecOptions.FourOctet);

        Assert.Equal(OpenMessage.AsTrans, open.MyAs);
        Assert.Equal(4200000001u, open.Asn);
        Assert.Equal(90, open.HoldTimeSeconds);
        Assert.Equal([AfiSafi.IPv4Unicast, AfiSafi.IPv6Unicast], open.Families);
        Assert.True(open.GracefulRestart!.RestartState);
        Assert.All(open.GracefulRestart.Families, f => Assert.True(f.ForwardingPreserved));
        // The capability layout FRR uses: one optional parameter holding every capability.
        Assert.Equal(2, bytes[29]);
        Assert.Equal(bytes[28] - 2, bytes[30]);
    }

    internal static NegotiatedSession Session(bool internalPeer, bool fourOctetAs = true) => new(1, internalPeer ? 64512u : 65001u,
        IPAddress.Parse("10.99.0.1"), TimeSpan.FromSeconds(90), fourOctetAs, [AfiSafi.IPv4Unicast, AfiSafi.IPv6Unicast], internalPeer,
        GracefulRestart: true, RouteRefresh: true);

    private static BgpMessage Decode(CapturedMessage message) => BgpCodec.Decode(message.Bytes, CodecOptions.FourOctet);
}
