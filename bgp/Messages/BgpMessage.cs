namespace Trellis.Bgp.Messages;

/// <summary>The message types of RFC 4271 §4.1 and ROUTE-REFRESH (RFC 2918).</summary>
public enum MessageType : byte
{
    Open = 1,
    Update = 2,
    Notification = 3,
    Keepalive = 4,
    RouteRefresh = 5,
}

/// <summary>One BGP message, decoded; <see cref="BgpCodec"/> turns it into bytes and back.</summary>
public abstract record BgpMessage
{
    public abstract MessageType Type { get; }
}

public sealed record KeepaliveMessage : BgpMessage
{
    public static readonly KeepaliveMessage Instance = new();

    public override MessageType Type => MessageType.Keepalive;
}

/// <summary>A request to resend one family (RFC 2918), or an enhanced route refresh marker (RFC 7313, subtype 1 begin, 2 end).</summary>
public sealed record RouteRefreshMessage(AfiSafi Family, byte Subtype = 0) : BgpMessage
{
    public override MessageType Type => MessageType.RouteRefresh;
}
