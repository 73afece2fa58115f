using System.Net;

namespace Trellis.Bgp.Messages;

/// <summary>
/// RFC 4271 §4.2 OPEN. <see cref="MyAs"/> is the two-octet field as sent (AS_TRANS, 23456,
/// when the real AS needs four octets, RFC 6793); <see cref="Asn"/> is the sender's real AS.
/// </summary>
public sealed record OpenMessage(ushort MyAs, ushort HoldTimeSeconds, IPAddress RouterId, IReadOnlyList<Capability> Capabilities, byte Version = 4)
    : BgpMessage
{
    public const ushort AsTrans = 23456;

    /// <summary>How the capabilities were packed into optional parameters; either is valid (RFC 5492 §4) and routers differ.</summary>
    public CapabilityLayout Layout { get; init; } = CapabilityLayout.OneParameter;

    public override MessageType Type => MessageType.Open;

    public uint Asn => Find<FourOctetAsCapability>()?.Asn ?? MyAs;

    /// <summary>The families the sender carries; without any multiprotocol capability, IPv4 unicast alone (RFC 4760 §8).</summary>
    public IReadOnlyList<AfiSafi> Families
    {
        get
        {
            var families = Capabilities.OfType<MultiprotocolCapability>().Select(c => c.Family).Distinct().ToList();
            return families.Count > 0 ? families : [AfiSafi.IPv4Unicast];
        }
    }

    public bool SupportsFourOctetAs => Find<FourOctetAsCapability>() is not null;

    public GracefulRestartCapability? GracefulRestart => Find<GracefulRestartCapability>();

    public T? Find<T>() where T : Capability => Capabilities.OfType<T>().FirstOrDefault();

    /// <summary>An OPEN for <paramref name="asn"/>, always with the four-octet AS capability.</summary>
    public static OpenMessage Create(uint asn, ushort holdTimeSeconds, IPAddress routerId, IEnumerable<Capability> capabilities)
    {
        var all = capabilities.Where(c => c is not FourOctetAsCapability).Append(new FourOctetAsCapability(asn)).ToList();
        return new OpenMessage(asn <= ushort.MaxValue ? (ushort)asn : AsTrans, holdTimeSeconds, routerId, all);
    }

    public bool Equals(OpenMessage? other) =>
        other is not null && MyAs == other.MyAs && HoldTimeSeconds == other.HoldTimeSeconds &&
        RouterId.Equals(other.RouterId) && Version == other.Version && Layout == other.Layout && Capabilities.SequenceEqual(other.Capabilities);

    public override int GetHashCode() => HashCode.Combine(MyAs, HoldTimeSeconds, RouterId, Capabilities.Count);
}

/// <summary>BIRD and GoBGP put every capability in one optional parameter; FRR gives each its own.</summary>
public enum CapabilityLayout
{
    OneParameter,
    ParameterEach,
}
