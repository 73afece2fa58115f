namespace Trellis.Bgp.Messages;

/// <summary>A capability advertised in OPEN (RFC 5492). Ones this speaker does not use are kept as <see cref="UnknownCapability"/>.</summary>
public abstract record Capability
{
    public const byte CodeMultiprotocol = 1;
    public const byte CodeRouteRefresh = 2;
    public const byte CodeGracefulRestart = 64;
    public const byte CodeFourOctetAs = 65;

    public abstract byte Code { get; }
}

/// <summary>RFC 4760: the sender carries this family.</summary>
public sealed record MultiprotocolCapability(AfiSafi Family) : Capability
{
    public override byte Code => CodeMultiprotocol;
}

/// <summary>RFC 2918: the sender answers ROUTE-REFRESH.</summary>
public sealed record RouteRefreshCapability : Capability
{
    public override byte Code => CodeRouteRefresh;
}

/// <summary>RFC 6793: the sender's real AS number, which may not fit OPEN's two-octet field.</summary>
public sealed record FourOctetAsCapability(uint Asn) : Capability
{
    public override byte Code => CodeFourOctetAs;
}

/// <summary>One family in the graceful restart capability; <see cref="ForwardingPreserved"/> is the F bit.</summary>
public readonly record struct GracefulRestartFamily(AfiSafi Family, byte Flags)
{
    public const byte ForwardingBit = 0x80;

    public bool ForwardingPreserved => (Flags & ForwardingBit) != 0;

    public static GracefulRestartFamily Preserved(AfiSafi family) => new(family, ForwardingBit);
}

/// <summary>
/// RFC 4724: the sender keeps forwarding across a restart of its BGP process, and asks its
/// peers to keep its routes for <see cref="RestartTimeSeconds"/> after the session drops.
/// <see cref="Flags"/> are the four high bits of the first octet: R (restart state) and N (RFC 8538).
/// </summary>
public sealed record GracefulRestartCapability(byte Flags, ushort RestartTimeSeconds, IReadOnlyList<GracefulRestartFamily> Families) : Capability
{
    public const byte RestartStateBit = 0x8;
    public const byte NotificationBit = 0x4;
    public const ushort MaxRestartTimeSeconds = 0x0FFF;

    public override byte Code => CodeGracefulRestart;

    public bool RestartState => (Flags & RestartStateBit) != 0;

    public bool Equals(GracefulRestartCapability? other) =>
        other is not null && Flags == other.Flags && RestartTimeSeconds == other.RestartTimeSeconds &&
        Families.SequenceEqual(other.Families);

    public override int GetHashCode() => HashCode.Combine(Flags, RestartTimeSeconds, Families.Count);
}

/// <summary>A capability this speaker neither uses nor needs to understand, kept byte for byte.</summary>
public sealed record UnknownCapability(byte CapabilityCode, byte[] Value) : Capability
{
    public override byte Code => CapabilityCode;

    public bool Equals(UnknownCapability? other) =>
        other is not null && CapabilityCode == other.CapabilityCode && Value.AsSpan().SequenceEqual(other.Value);

    public override int GetHashCode() => HashCode.Combine(CapabilityCode, Value.Length);
}
