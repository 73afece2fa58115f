using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;

namespace Trellis.Addressing;

/// <summary>
/// An IPv4 or IPv6 network in canonical form: the host bits are zero. This is the one
/// CIDR type of Trellis; parsing is strict so that "10.244.1.7/24" is refused rather than
/// silently widened, because a misread block is an overlap waiting to happen.
/// </summary>
public readonly record struct Cidr : IComparable<Cidr>
{
    private readonly UInt128 _network;

    public AddressFamily Family { get; }
    public int PrefixLength { get; }

    private Cidr(UInt128 network, int prefixLength, AddressFamily family)
    {
        _network = network;
        PrefixLength = prefixLength;
        Family = family;
    }

    public static Cidr Create(IPAddress network, int prefixLength)
    {
        if (!TryCreate(network, prefixLength, out var cidr, out var error))
            throw new FormatException(error);
        return cidr;
    }

    /// <summary>The network holding <paramref name="address"/> at this prefix (host bits cleared).</summary>
    public static Cidr Containing(IPAddress address, int prefixLength)
    {
        var family = address.AddressFamily;
        if (prefixLength < 0 || prefixLength > IpAddressMath.BitLength(family))
            throw new ArgumentOutOfRangeException(nameof(prefixLength), $"prefix /{prefixLength} is out of range for {address}");
        return new Cidr(IpAddressMath.ToUInt128(address) & IpAddressMath.Mask(prefixLength, family), prefixLength, family);
    }

    public static Cidr Parse(string text)
    {
        if (!TryParse(text, out var cidr, out var error))
            throw new FormatException(error);
        return cidr;
    }

    public static bool TryParse(string? text, out Cidr cidr) => TryParse(text, out cidr, out _);

    public static bool TryParse(string? text, out Cidr cidr, [NotNullWhen(false)] out string? error)
    {
        cidr = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "CIDR is empty";
            return false;
        }
        int slash = text.IndexOf('/');
        if (slash <= 0 || slash == text.Length - 1)
        {
            error = $"\"{text}\" is not a CIDR (expected address/prefix)";
            return false;
        }
        var addressText = text.AsSpan(0, slash);
        var prefixText = text.AsSpan(slash + 1);
        if (addressText.Contains('%') || !IPAddress.TryParse(addressText, out var address) ||
            (address.AddressFamily == AddressFamily.InterNetwork && addressText.Count('.') != 3))
        {
            error = $"\"{text}\" has an invalid address";
            return false;
        }
        if (!int.TryParse(prefixText, System.Globalization.NumberStyles.None, null, out int prefix) ||
            prefixText.Length > 3)
        {
            error = $"\"{text}\" has an invalid prefix length";
            return false;
        }
        if (address.IsIPv4MappedToIPv6)
        {
            error = $"\"{text}\" is an IPv4-mapped IPv6 address; write the IPv4 form";
            return false;
        }
        return TryCreate(address, prefix, out cidr, out error, text);
    }

    private static bool TryCreate(IPAddress address, int prefixLength, out Cidr cidr, [NotNullWhen(false)] out string? error, string? original = null)
    {
        cidr = default;
        var family = address.AddressFamily;
        if (family is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            error = $"\"{original ?? address.ToString()}\" is not IPv4 or IPv6";
            return false;
        }
        int bits = IpAddressMath.BitLength(family);
        if (prefixLength < 0 || prefixLength > bits)
        {
            error = $"\"{original ?? $"{address}/{prefixLength}"}\" has prefix /{prefixLength}, outside 0..{bits}";
            return false;
        }
        var value = IpAddressMath.ToUInt128(address);
        var mask = IpAddressMath.Mask(prefixLength, family);
        if ((value & ~mask & (bits == 32 ? uint.MaxValue : UInt128.MaxValue)) != 0)
        {
            var canonical = new Cidr(value & mask, prefixLength, family);
            error = $"\"{original ?? $"{address}/{prefixLength}"}\" has host bits set; did you mean {canonical}?";
            return false;
        }
        cidr = new Cidr(value, prefixLength, family);
        error = null;
        return true;
    }

    public bool IsIPv4 => Family == AddressFamily.InterNetwork;
    public bool IsIPv6 => Family == AddressFamily.InterNetworkV6;
    public int AddressBits => IpAddressMath.BitLength(Family);

    public IPAddress Network => IpAddressMath.FromUInt128(_network, Family);

    /// <summary>The last address of the range (the IPv4 broadcast address).</summary>
    public IPAddress Last => IpAddressMath.FromUInt128(LastValue, Family);

    /// <summary>Number of addresses in the range; 2^128 does not fit, so ::/0 saturates.</summary>
    public UInt128 Size => HostBits >= 128 ? UInt128.MaxValue : UInt128.One << HostBits;

    private int HostBits => AddressBits - PrefixLength;
    private UInt128 LastValue => _network | ~IpAddressMath.Mask(PrefixLength, Family) & (AddressBits == 32 ? uint.MaxValue : UInt128.MaxValue);

    /// <summary>The address after the network address; a /32 or /128 has none.</summary>
    public IPAddress FirstHost => AddressAt(UInt128.One);

    /// <summary>The address at <paramref name="offset"/> from the network address.</summary>
    public IPAddress AddressAt(UInt128 offset)
    {
        if (HostBits < 128 && offset >= Size)
            throw new ArgumentOutOfRangeException(nameof(offset), $"offset {offset} is outside {this}");
        return IpAddressMath.FromUInt128(_network + offset, Family);
    }

    /// <summary>The offset of <paramref name="address"/> from the network address.</summary>
    public UInt128 OffsetOf(IPAddress address)
    {
        if (!Contains(address))
            throw new ArgumentOutOfRangeException(nameof(address), $"{address} is not in {this}");
        return IpAddressMath.ToUInt128(address) - _network;
    }

    public bool Contains(IPAddress address)
    {
        if (address.AddressFamily != Family) return false;
        return (IpAddressMath.ToUInt128(address) & IpAddressMath.Mask(PrefixLength, Family)) == _network;
    }

    public bool Contains(Cidr other) =>
        other.Family == Family && other.PrefixLength >= PrefixLength &&
        (other._network & IpAddressMath.Mask(PrefixLength, Family)) == _network;

    public bool Overlaps(Cidr other) => Contains(other) || other.Contains(this);

    /// <summary>How many subnets of length <paramref name="prefixLength"/> fit in this range.</summary>
    public UInt128 SubnetCount(int prefixLength)
    {
        CheckSubnetPrefix(prefixLength);
        int bits = prefixLength - PrefixLength;
        return bits >= 128 ? UInt128.MaxValue : UInt128.One << bits;
    }

    /// <summary>The <paramref name="index"/>-th subnet of length <paramref name="prefixLength"/>.</summary>
    public Cidr Subnet(int prefixLength, UInt128 index)
    {
        CheckSubnetPrefix(prefixLength);
        if (index >= SubnetCount(prefixLength))
            throw new ArgumentOutOfRangeException(nameof(index), $"{this} has no /{prefixLength} number {index}");
        int shift = AddressBits - prefixLength;
        var start = shift >= 128 ? UInt128.Zero : index << shift;
        return new Cidr(_network + start, prefixLength, Family);
    }

    /// <summary>Index of <paramref name="subnet"/> among this range's subnets of its length.</summary>
    public UInt128 SubnetIndex(Cidr subnet)
    {
        if (!Contains(subnet))
            throw new ArgumentOutOfRangeException(nameof(subnet), $"{subnet} is not inside {this}");
        int shift = AddressBits - subnet.PrefixLength;
        return shift >= 128 ? UInt128.Zero : (subnet._network - _network) >> shift;
    }

    private void CheckSubnetPrefix(int prefixLength)
    {
        if (prefixLength < PrefixLength || prefixLength > AddressBits)
            throw new ArgumentOutOfRangeException(nameof(prefixLength), $"/{prefixLength} is not a subnet length of {this}");
    }

    public int CompareTo(Cidr other)
    {
        int byFamily = Family.CompareTo(other.Family);
        if (byFamily != 0) return byFamily;
        int byNetwork = _network.CompareTo(other._network);
        return byNetwork != 0 ? byNetwork : PrefixLength.CompareTo(other.PrefixLength);
    }

    public override string ToString() => $"{Network}/{PrefixLength}";
}
