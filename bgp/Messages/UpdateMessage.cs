using Trellis.Addressing;

namespace Trellis.Bgp.Messages;

/// <summary>
/// RFC 4271 §4.3 UPDATE. IPv4 unicast routes travel in <see cref="Withdrawn"/> and
/// <see cref="Nlri"/>; other families in MP_REACH_NLRI / MP_UNREACH_NLRI attributes.
/// </summary>
public sealed record UpdateMessage(IReadOnlyList<Cidr> Withdrawn, IReadOnlyList<PathAttribute> Attributes, IReadOnlyList<Cidr> Nlri)
    : BgpMessage
{
    public override MessageType Type => MessageType.Update;

    /// <summary>
    /// Set when an attribute was malformed in a way RFC 7606 answers with "treat-as-withdraw":
    /// the message's routes count as withdrawn and the session stays up. It names the
    /// NOTIFICATION that RFC 4271 alone would have sent.
    /// </summary>
    public MalformedMessageException? TreatAsWithdraw { get; init; }

    public static UpdateMessage EndOfRib(AfiSafi family) => family == AfiSafi.IPv4Unicast
        ? new UpdateMessage([], [], [])
        : new UpdateMessage([], [new MpUnreachNlriAttribute(family, [])], []);

    /// <summary>True for an End-of-RIB marker (RFC 4724 §2): an empty UPDATE, or one holding only an empty MP_UNREACH_NLRI.</summary>
    public bool IsEndOfRib(out AfiSafi family)
    {
        family = AfiSafi.IPv4Unicast;
        if (Withdrawn.Count != 0 || Nlri.Count != 0) return false;
        if (Attributes.Count == 0) return true;
        if (Attributes is [MpUnreachNlriAttribute { Withdrawn.Count: 0 } marker])
        {
            family = marker.Family;
            return true;
        }
        return false;
    }

    public T? Find<T>() where T : PathAttribute => Attributes.OfType<T>().FirstOrDefault();

    /// <summary>The routes this message announces, per family.</summary>
    public IEnumerable<(AfiSafi Family, Cidr Prefix)> Announced()
    {
        foreach (var prefix in Nlri) yield return (AfiSafi.IPv4Unicast, prefix);
        foreach (var reach in Attributes.OfType<MpReachNlriAttribute>())
            foreach (var prefix in reach.Nlri) yield return (reach.Family, prefix);
    }

    /// <summary>The routes this message withdraws, per family.</summary>
    public IEnumerable<(AfiSafi Family, Cidr Prefix)> WithdrawnRoutes()
    {
        foreach (var prefix in Withdrawn) yield return (AfiSafi.IPv4Unicast, prefix);
        foreach (var unreach in Attributes.OfType<MpUnreachNlriAttribute>())
            foreach (var prefix in unreach.Withdrawn) yield return (unreach.Family, prefix);
    }

    public bool Equals(UpdateMessage? other) =>
        other is not null && Withdrawn.SequenceEqual(other.Withdrawn) && Attributes.SequenceEqual(other.Attributes) &&
        Nlri.SequenceEqual(other.Nlri);

    public override int GetHashCode() => HashCode.Combine(Withdrawn.Count, Attributes.Count, Nlri.Count);
}
