using System.Net;
using Trellis.Addressing;

namespace Trellis.Bgp.Messages;

/// <summary>
/// A path attribute of an UPDATE (RFC 4271 §4.3, §5). <see cref="Flags"/> are kept as sent so a
/// decoded message encodes to the same bytes (some routers set Extended Length on short values).
/// </summary>
public abstract record PathAttribute(byte Flags)
{
    public const byte OptionalBit = 0x80;
    public const byte TransitiveBit = 0x40;
    public const byte PartialBit = 0x20;
    public const byte ExtendedLengthBit = 0x10;

    /// <summary>Well-known attributes: not optional, transitive.</summary>
    public const byte WellKnown = TransitiveBit;

    public const byte CodeOrigin = 1;
    public const byte CodeAsPath = 2;
    public const byte CodeNextHop = 3;
    public const byte CodeMultiExitDisc = 4;
    public const byte CodeLocalPref = 5;
    public const byte CodeMpReachNlri = 14;
    public const byte CodeMpUnreachNlri = 15;

    public abstract byte TypeCode { get; }
}

public enum Origin : byte
{
    Igp = 0,
    Egp = 1,
    Incomplete = 2,
}

public sealed record OriginAttribute(Origin Origin, byte Flags = PathAttribute.WellKnown) : PathAttribute(Flags)
{
    public override byte TypeCode => CodeOrigin;
}

public enum AsPathSegmentType : byte
{
    AsSet = 1,
    AsSequence = 2,
    ConfedSequence = 3,
    ConfedSet = 4,
}

public sealed record AsPathSegment(AsPathSegmentType Type, IReadOnlyList<uint> Asns)
{
    public bool Equals(AsPathSegment? other) => other is not null && Type == other.Type && Asns.SequenceEqual(other.Asns);

    public override int GetHashCode() => HashCode.Combine(Type, Asns.Count);
}

/// <summary>AS_PATH; its AS numbers take two or four octets depending on the session (RFC 6793), which the codec is told.</summary>
public sealed record AsPathAttribute(IReadOnlyList<AsPathSegment> Segments, byte Flags = PathAttribute.WellKnown) : PathAttribute(Flags)
{
    public override byte TypeCode => CodeAsPath;

    public IEnumerable<uint> Asns => Segments.SelectMany(s => s.Asns);

    public bool Equals(AsPathAttribute? other) => other is not null && Flags == other.Flags && Segments.SequenceEqual(other.Segments);

    public override int GetHashCode() => HashCode.Combine(Flags, Segments.Count);
}

public sealed record NextHopAttribute(IPAddress NextHop, byte Flags = PathAttribute.WellKnown) : PathAttribute(Flags)
{
    public override byte TypeCode => CodeNextHop;
}

public sealed record MultiExitDiscAttribute(uint Value, byte Flags = PathAttribute.OptionalBit) : PathAttribute(Flags)
{
    public override byte TypeCode => CodeMultiExitDisc;
}

public sealed record LocalPrefAttribute(uint Value, byte Flags = PathAttribute.WellKnown) : PathAttribute(Flags)
{
    public override byte TypeCode => CodeLocalPref;
}

/// <summary>
/// RFC 4760 MP_REACH_NLRI for IPv4 or IPv6 unicast. IPv6 carries one global next hop, or a global
/// and a link-local one (32 octets), as FRR and BIRD send on a shared segment.
/// </summary>
public sealed record MpReachNlriAttribute(AfiSafi Family, IReadOnlyList<IPAddress> NextHops, IReadOnlyList<Cidr> Nlri,
    byte Flags = PathAttribute.OptionalBit) : PathAttribute(Flags)
{
    public override byte TypeCode => CodeMpReachNlri;

    public bool Equals(MpReachNlriAttribute? other) =>
        other is not null && Flags == other.Flags && Family == other.Family &&
        NextHops.SequenceEqual(other.NextHops) && Nlri.SequenceEqual(other.Nlri);

    public override int GetHashCode() => HashCode.Combine(Flags, Family, Nlri.Count);
}

/// <summary>RFC 4760 MP_UNREACH_NLRI; with no prefixes it is the family's End-of-RIB marker (RFC 4724 §2).</summary>
public sealed record MpUnreachNlriAttribute(AfiSafi Family, IReadOnlyList<Cidr> Withdrawn,
    byte Flags = PathAttribute.OptionalBit) : PathAttribute(Flags)
{
    public override byte TypeCode => CodeMpUnreachNlri;

    public bool Equals(MpUnreachNlriAttribute? other) =>
        other is not null && Flags == other.Flags && Family == other.Family && Withdrawn.SequenceEqual(other.Withdrawn);

    public override int GetHashCode() => HashCode.Combine(Flags, Family, Withdrawn.Count);
}

/// <summary>An attribute this speaker passes over (communities, AGGREGATOR, AS4_PATH, other families' MP_*), kept byte for byte.</summary>
public sealed record RawAttribute(byte AttributeFlags, byte Code, byte[] Value) : PathAttribute(AttributeFlags)
{
    public override byte TypeCode => Code;

    public bool Equals(RawAttribute? other) =>
        other is not null && Flags == other.Flags && Code == other.Code && Value.AsSpan().SequenceEqual(other.Value);

    public override int GetHashCode() => HashCode.Combine(Flags, Code, Value.Length);
}
