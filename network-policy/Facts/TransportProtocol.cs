namespace Trellis.NetworkPolicy.Facts;

/// <summary>The protocols a NetworkPolicy port can name; the API's default is TCP.</summary>
public enum TransportProtocol
{
    Tcp,
    Udp,
    Sctp,
}

public static class TransportProtocols
{
    public static readonly IReadOnlyList<TransportProtocol> All = [TransportProtocol.Tcp, TransportProtocol.Udp, TransportProtocol.Sctp];

    /// <summary>Reads the API spelling ("TCP", "UDP", "SCTP"); null or empty is TCP, as the API defaults it.</summary>
    public static bool TryParse(string? text, out TransportProtocol protocol)
    {
        protocol = TransportProtocol.Tcp;
        switch (text)
        {
            case null or "" or "TCP":
                return true;
            case "UDP":
                protocol = TransportProtocol.Udp;
                return true;
            case "SCTP":
                protocol = TransportProtocol.Sctp;
                return true;
            default:
                return false;
        }
    }

    /// <summary>The API spelling.</summary>
    public static string ApiName(this TransportProtocol protocol) => protocol switch
    {
        TransportProtocol.Tcp => "TCP",
        TransportProtocol.Udp => "UDP",
        _ => "SCTP",
    };

    /// <summary>The nftables spelling (an inet_proto value).</summary>
    public static string NftName(this TransportProtocol protocol) => protocol switch
    {
        TransportProtocol.Tcp => "tcp",
        TransportProtocol.Udp => "udp",
        _ => "sctp",
    };
}
