using System.Text;

namespace Trellis.Bgp.Messages;

/// <summary>RFC 4271 §4.5 NOTIFICATION: the error that ends a session, with its code, subcode and data.</summary>
public sealed record NotificationMessage(byte Code, byte Subcode, byte[] Data) : BgpMessage
{
    public const byte MessageHeaderError = 1;
    public const byte OpenMessageError = 2;
    public const byte UpdateMessageError = 3;
    public const byte HoldTimerExpired = 4;
    public const byte FiniteStateMachineError = 5;
    public const byte Cease = 6;
    public const byte RouteRefreshMessageError = 7;

    public override MessageType Type => MessageType.Notification;

    public NotificationMessage(byte code, byte subcode) : this(code, subcode, []) { }

    public static NotificationMessage Create(byte code, byte subcode, ReadOnlySpan<byte> data) => new(code, subcode, data.ToArray());

    /// <summary>Two octets of data, as the length field of a bad header or the version OPEN supports.</summary>
    public static NotificationMessage WithUInt16(byte code, byte subcode, ushort value) =>
        new(code, subcode, [(byte)(value >> 8), (byte)value]);

    /// <summary>Cease with an RFC 8203/9003 shutdown communication: the reason an operator would read.</summary>
    public static NotificationMessage CeaseWith(CeaseSubcode subcode, string reason)
    {
        var text = Encoding.UTF8.GetBytes(reason);
        if (text.Length > 255) text = text[..255];
        return new NotificationMessage(Cease, (byte)subcode, [(byte)text.Length, .. text]);
    }

    /// <summary>What happened, in words: "OPEN Message Error / Bad Peer AS (data 5ba0)".</summary>
    public string Describe()
    {
        var (codeName, subcodeName) = Names(Code, Subcode);
        var text = subcodeName is null ? codeName : $"{codeName} / {subcodeName}";
        if (Code == Cease && Subcode is (byte)CeaseSubcode.AdministrativeShutdown or (byte)CeaseSubcode.AdministrativeReset
            && Data.Length > 0 && Data[0] == Data.Length - 1 && Data.Length > 1)
            return $"{text}: \"{Encoding.UTF8.GetString(Data, 1, Data.Length - 1)}\"";
        return Data.Length == 0 ? text : $"{text} (data {Convert.ToHexStringLower(Data)})";
    }

    public bool Equals(NotificationMessage? other) =>
        other is not null && Code == other.Code && Subcode == other.Subcode && Data.AsSpan().SequenceEqual(other.Data);

    public override int GetHashCode() => HashCode.Combine(Code, Subcode, Data.Length);

    public override string ToString() => Describe();

    private static (string Code, string? Subcode) Names(byte code, byte subcode) => code switch
    {
        MessageHeaderError => ("Message Header Error", subcode switch
        {
            1 => "Connection Not Synchronized",
            2 => "Bad Message Length",
            3 => "Bad Message Type",
            _ => Unspecific(subcode),
        }),
        OpenMessageError => ("OPEN Message Error", subcode switch
        {
            1 => "Unsupported Version Number",
            2 => "Bad Peer AS",
            3 => "Bad BGP Identifier",
            4 => "Unsupported Optional Parameter",
            6 => "Unacceptable Hold Time",
            7 => "Unsupported Capability",
            _ => Unspecific(subcode),
        }),
        UpdateMessageError => ("UPDATE Message Error", subcode switch
        {
            1 => "Malformed Attribute List",
            2 => "Unrecognized Well-known Attribute",
            3 => "Missing Well-known Attribute",
            4 => "Attribute Flags Error",
            5 => "Attribute Length Error",
            6 => "Invalid ORIGIN Attribute",
            8 => "Invalid NEXT_HOP Attribute",
            9 => "Optional Attribute Error",
            10 => "Invalid Network Field",
            11 => "Malformed AS_PATH",
            _ => Unspecific(subcode),
        }),
        HoldTimerExpired => ("Hold Timer Expired", subcode == 0 ? null : Unspecific(subcode)),
        FiniteStateMachineError => ("Finite State Machine Error", subcode switch
        {
            1 => "Unexpected Message in OpenSent",
            2 => "Unexpected Message in OpenConfirm",
            3 => "Unexpected Message in Established",
            _ => Unspecific(subcode),
        }),
        Cease => ("Cease", subcode switch
        {
            1 => "Maximum Number of Prefixes Reached",
            2 => "Administrative Shutdown",
            3 => "Peer De-configured",
            4 => "Administrative Reset",
            5 => "Connection Rejected",
            6 => "Other Configuration Change",
            7 => "Connection Collision Resolution",
            8 => "Out of Resources",
            9 => "Hard Reset",
            _ => Unspecific(subcode),
        }),
        RouteRefreshMessageError => ("ROUTE-REFRESH Message Error", subcode == 1 ? "Invalid Message Length" : Unspecific(subcode)),
        _ => ($"error code {code}", $"subcode {subcode}"),
    };

    private static string? Unspecific(byte subcode) => subcode == 0 ? null : $"subcode {subcode}";
}

/// <summary>RFC 4486 Cease subcodes this speaker sends.</summary>
public enum CeaseSubcode : byte
{
    AdministrativeShutdown = 2,
    PeerDeconfigured = 3,
    AdministrativeReset = 4,
    ConnectionRejected = 5,
    OtherConfigurationChange = 6,
    ConnectionCollisionResolution = 7,
}
