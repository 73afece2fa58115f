using Trellis.Bgp.Messages;
using Xunit;

namespace Trellis.Bgp.Tests;

/// <summary>
/// Every length field lied about, in each direction, answered by the NOTIFICATION RFC 4271 §6
/// names, or, for attribute contents, RFC 7606's treat-as-withdraw that names it.
/// </summary>
public sealed class MalformedMessageTests
{
    private const string Marker = "ffffffffffffffffffffffffffffffff";

    // OPEN: version 4, AS 64512, hold 90, id 192.168.1.11, one capabilities parameter (MP IPv4, four-octet AS).
    private const string OpenBody = "04" + "fc00" + "005a" + "c0a8010b" + "10" + "02" + "0e" + "0104" + "00010001" + "4104" + "0000fc00";
    // UPDATE: ORIGIN IGP, AS_PATH [64512], NEXT_HOP 192.168.1.11, NLRI 10.244.1.0/24.
    private const string Origin = "40010100";
    private const string AsPath = "40020602010000fc00";
    private const string NextHop = "400304c0a8010b";
    private const string Nlri = "180af401";

    public static TheoryData<string, string, byte, byte> Lies => new()
    {
        // ---- header ----
        { "marker with a zero octet", "00" + Marker[2..] + "0013" + "04", 1, 1 },
        { "length 18, below the header", Marker + "0012" + "04", 1, 2 },
        { "length 4097, above the maximum", Marker + "1001" + "04" + new string('0', 2 * (4097 - 19)), 1, 2 },
        { "KEEPALIVE of 20 octets", Marker + "0014" + "04" + "00", 1, 2 },
        { "OPEN of 28 octets", Marker + "001c" + "01" + OpenBody[..18], 1, 2 },
        { "UPDATE of 22 octets", Marker + "0016" + "02" + "000000", 1, 2 },
        { "NOTIFICATION of 20 octets", Marker + "0014" + "03" + "06", 1, 2 },
        { "ROUTE-REFRESH of 22 octets", Marker + "0016" + "05" + "000100", 1, 2 },
        { "message type 6", Marker + "0013" + "06", 1, 3 },
        // ---- OPEN ----
        { "OPEN version 3", Message(1, "03" + OpenBody[2..]), 2, 1 },
        { "optional parameters length one too long", Message(1, OpenBody[..18] + "11" + OpenBody[20..]), 2, 0 },
        { "optional parameters length one too short", Message(1, OpenBody[..18] + "0f" + OpenBody[20..]), 2, 0 },
        { "parameter length one too long", Message(1, OpenBody[..22] + "0f" + OpenBody[24..]), 2, 0 },
        { "parameter length one too short", Message(1, OpenBody[..22] + "0d" + OpenBody[24..]), 2, 0 },
        { "last capability length one too long", Message(1, OpenBody[..38] + "05" + OpenBody[40..]), 2, 0 },
        { "last capability length one too short", Message(1, OpenBody[..38] + "03" + OpenBody[40..]), 2, 0 },
        { "multiprotocol capability of 5 octets", Message(1, OpenBody[..18] + "11" + "02" + "0f" + "0105" + "0001000100" + "4104" + "0000fc00"), 2, 0 },
        { "four-octet AS capability of 2 octets", Message(1, OpenBody[..18] + "0e" + "02" + "0c" + "0104" + "00010001" + "4102" + "fc00"), 2, 0 },
        { "graceful restart capability of 3 octets", Message(1, OpenBody[..18] + "07" + "02" + "05" + "4003" + "007800"), 2, 0 },
        { "optional parameter type 1 (authentication)", Message(1, OpenBody[..18] + "04" + "01" + "02" + "0000"), 2, 4 },
        { "extended parameters length one too long", Message(1, OpenBody[..18] + "ff" + "ff" + "0010" + "02" + "000c" + "0104" + "00010001" + "4104" + "0000fc00"), 2, 0 },
        // ---- UPDATE: lengths that frame the message ----
        { "withdrawn routes length past the message", Message(2, "0100" + "0000"), 3, 1 },
        { "withdrawn routes length one short of its prefix", Message(2, "0003" + "180af401" + "0000"), 3, 10 },
        { "total path attribute length past the message", Message(2, "0000" + "0100" + Origin), 3, 1 },
        { "total path attribute length cutting the last attribute", Message(2, "0000" + Length(Origin + AsPath + NextHop, -1) + Origin + AsPath + NextHop + Nlri), 3, 1 },
        { "attribute length past the attribute list", Message(2, "0000" + Length(Origin) + "4001c800"), 3, 1 },
        { "attribute header cut short", Message(2, "0000" + "0002" + "4001"), 3, 1 },
        { "extended length attribute header cut short", Message(2, "0000" + "0003" + "500100"), 3, 1 },
        { "NLRI prefix length 33", Message(2, "0000" + Length(Origin + AsPath + NextHop) + Origin + AsPath + NextHop + "210af40100"), 3, 10 },
        { "NLRI prefix longer than the octets left", Message(2, "0000" + Length(Origin + AsPath + NextHop) + Origin + AsPath + NextHop + "190af401"), 3, 10 },
        { "withdrawn prefix length 33", Message(2, "0005" + "210af40100" + "0000"), 3, 10 },
        // ---- UPDATE: MP_REACH_NLRI / MP_UNREACH_NLRI (session reset, RFC 7606 §5.3) ----
        { "MP_REACH_NLRI next hop length past the attribute", Message(2, "0000" + Length(Origin + AsPath + "800e15" + "00020111" + Hex16 + "00" + "00") + Origin + AsPath + "800e15" + "00020111" + Hex16 + "00" + "00"), 3, 9 },
        { "MP_REACH_NLRI next hop of 15 octets", Message(2, "0000" + Length(Origin + AsPath + "800e14" + "0002010f" + Hex16[..30] + "00" + "40fd000010") + Origin + AsPath + "800e14" + "0002010f" + Hex16[..30] + "00" + "40fd000010"), 3, 9 },
        { "MP_REACH_NLRI prefix length 129", Message(2, "0000" + Length(Origin + AsPath + "800e17" + "00020110" + Hex16 + "00" + "81fd00") + Origin + AsPath + "800e17" + "00020110" + Hex16 + "00" + "81fd00"), 3, 9 },
        { "MP_REACH_NLRI of 4 octets", Message(2, "0000" + "0007" + "800e04" + "00020110"), 3, 9 },
        { "MP_UNREACH_NLRI prefix past the attribute", Message(2, "0000" + "0008" + "800f05" + "000201" + "40fd"), 3, 9 },
        { "MP_UNREACH_NLRI of 2 octets", Message(2, "0000" + "0005" + "800f02" + "0002"), 3, 9 },
        { "MP_UNREACH_NLRI twice", Message(2, "0000" + "000c" + "800f03000201" + "800f03000201"), 3, 1 },
        // ---- ROUTE-REFRESH ----
        { "ROUTE-REFRESH of 24 octets", Message(5, "0001000100"), 1, 2 },
        { "enhanced route refresh marker of 24 octets", Message(5, "0001010100"), 7, 1 },
    };

    /// <summary>Attribute contents that RFC 7606 answers with treat-as-withdraw: the session stays, the routes go.</summary>
    public static TheoryData<string, string, byte, byte> WithdrawingLies => new()
    {
        { "ORIGIN of 2 octets", Update("40010200" + "00", AsPath, NextHop), 3, 5 },
        { "ORIGIN 3", Update("40010103", AsPath, NextHop), 3, 6 },
        { "ORIGIN flagged optional", Update("c0010100", AsPath, NextHop), 3, 4 },
        { "NEXT_HOP of 5 octets", Update(Origin, AsPath, "400305c0a8010b00"), 3, 5 },
        { "MULTI_EXIT_DISC of 3 octets", Update(Origin, AsPath, NextHop, "800403000000"), 3, 5 },
        { "LOCAL_PREF of 5 octets", Update(Origin, AsPath, NextHop, "4005050000006400"), 3, 5 },
        { "AS_PATH segment claiming one AS too many", Update(Origin, "40020602020000fc00", NextHop), 3, 11 },
        { "AS_PATH segment claiming one AS too few", Update(Origin, "400206020000fc0000", NextHop), 3, 11 },
        { "AS_PATH segment of no AS", Update(Origin, "4002020200", NextHop), 3, 11 },
        { "AS_PATH segment type 5", Update(Origin, "40020605010000fc00", NextHop), 3, 11 },
        { "ORIGIN missing", Update(AsPath, NextHop), 3, 3 },
        { "NEXT_HOP missing with NLRI", Update(Origin, AsPath), 3, 3 },
        { "unrecognised well-known attribute", Update(Origin, AsPath, NextHop, "401e0100"), 3, 2 },
    };

    [Theory]
    [MemberData(nameof(Lies))]
    public void A_lie_is_refused_with_the_notification_rfc_4271_names(string lie, string hex, byte code, byte subcode)
    {
        var error = Assert.Throws<MalformedMessageException>(() => Decode(Convert.FromHexString(hex)));
        Assert.True(error.Notification.Code == code && error.Notification.Subcode == subcode,
            $"{lie}: expected {new NotificationMessage(code, subcode).Describe()}, got {error.Notification.Describe()} ({error.Description})");
    }

    [Theory]
    [MemberData(nameof(WithdrawingLies))]
    public void A_malformed_attribute_withdraws_the_routes_and_names_the_notification(string lie, string hex, byte code, byte subcode)
    {
        var update = (UpdateMessage)Decode(Convert.FromHexString(hex));
        var error = update.TreatAsWithdraw;
        Assert.NotNull(error);
        Assert.True(error.Notification.Code == code && error.Notification.Subcode == subcode,
            $"{lie}: expected {new NotificationMessage(code, subcode).Describe()}, got {error.Notification.Describe()} ({error.Description})");
        Assert.Equal([Addressing.Cidr.Parse("10.244.1.0/24")], update.Nlri);
    }

    [Fact]
    public void Bad_header_lengths_carry_the_length_and_bad_types_the_type()
    {
        var length = Assert.Throws<MalformedMessageException>(() => BgpCodec.FrameLength(Convert.FromHexString(Marker + "0012" + "04")));
        Assert.Equal([0x00, 0x12], length.Notification.Data);
        var type = Assert.Throws<MalformedMessageException>(() => BgpCodec.FrameLength(Convert.FromHexString(Marker + "0013" + "09")));
        Assert.Equal([0x09], type.Notification.Data);
        var version = Assert.Throws<MalformedMessageException>(() => Decode(Convert.FromHexString(Message(1, "03" + OpenBody[2..]))));
        Assert.Equal([0x00, 0x04], version.Notification.Data);
    }

    [Fact]
    public void A_header_that_claims_less_than_was_sent_breaks_the_next_frame()
    {
        // The first KEEPALIVE carries a stray octet its length does not count: the stream is out of step.
        var stream = Convert.FromHexString(Marker + "0013" + "04" + "00" + Marker + "0013" + "04");
        Assert.Equal(19, BgpCodec.FrameLength(stream));
        var error = Assert.Throws<MalformedMessageException>(() => BgpCodec.FrameLength(stream.AsSpan(19)));
        Assert.Equal((1, 1), (error.Notification.Code, error.Notification.Subcode));
    }

    [Fact]
    public void A_header_that_claims_more_than_has_arrived_waits_for_the_rest()
    {
        var partial = Convert.FromHexString(Message(2, "0000" + Length(Origin + AsPath + NextHop) + Origin + AsPath + NextHop + Nlri))[..30];
        Assert.Equal(47, BgpCodec.FrameLength(partial));
        Assert.Equal(0, BgpCodec.FrameLength(partial.AsSpan(0, 18)));
    }

    [Fact]
    public void Repeated_attributes_other_than_multiprotocol_keep_the_first()
    {
        var update = (UpdateMessage)Decode(Convert.FromHexString(Update(Origin, "40010102", AsPath, NextHop)));
        Assert.Null(update.TreatAsWithdraw);
        Assert.Equal(Messages.Origin.Igp, update.Find<OriginAttribute>()!.Origin);
        Assert.Single(update.Attributes.OfType<OriginAttribute>());
    }

    [Fact]
    public void Extended_optional_parameters_of_rfc_9072_are_read()
    {
        var open = (OpenMessage)Decode(Convert.FromHexString(Message(1, OpenBody[..18] + "ff" + "ff" + "000f" + "02" + "000c" + "0104" + "00010001" + "4104" + "0000fc00")));
        Assert.Equal(64512u, open.Asn);
        Assert.Equal([AfiSafi.IPv4Unicast], open.Families);
    }

    [Fact]
    public void Corrupting_any_octet_of_any_captured_message_decodes_or_is_refused_cleanly()
    {
        int refused = 0, decoded = 0;
        foreach (var captured in CapturedMessages.All)
            for (int at = 0; at < captured.Bytes.Length; at++)
                foreach (var value in new byte[] { 0x00, 0x01, 0x7f, 0xff, (byte)(captured.Bytes[at] + 1), (byte)(captured.Bytes[at] - 1) })
                {
                    var bytes = (byte[])captured.Bytes.Clone();
                    bytes[at] = value;
                    try
                    {
                        int length = BgpCodec.FrameLength(bytes);
                        if (length != bytes.Length) continue;
                        var message = BgpCodec.Decode(bytes, CodecOptions.FourOctet);
                        BgpCodec.Encode(message, CodecOptions.FourOctet);
                        decoded++;
                    }
                    catch (MalformedMessageException)
                    {
                        refused++;
                    }
                }
        Assert.True(refused > 1000 && decoded > 1000, $"{refused} refused, {decoded} decoded");
    }

    private const string Hex16 = "fd000001000000000000000000000011";

    private static BgpMessage Decode(byte[] bytes)
    {
        BgpCodec.FrameLength(bytes);
        return BgpCodec.Decode(bytes, CodecOptions.FourOctet);
    }

    private static string Message(byte type, string body) => Marker + (19 + body.Length / 2).ToString("x4") + type.ToString("x2") + body;

    private static string Update(params string[] attributes)
    {
        var all = string.Concat(attributes);
        return Message(2, "0000" + Length(all) + all + Nlri);
    }

    private static string Length(string hex, int adjust = 0) => (hex.Length / 2 + adjust).ToString("x4");
}
