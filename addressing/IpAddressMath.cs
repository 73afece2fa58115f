using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Trellis.Addressing;

/// <summary>Addresses as 128-bit integers, so that both families share one arithmetic.</summary>
public static class IpAddressMath
{
    public static int BitLength(AddressFamily family) => family switch
    {
        AddressFamily.InterNetwork => 32,
        AddressFamily.InterNetworkV6 => 128,
        _ => throw new ArgumentException($"unsupported address family {family}", nameof(family)),
    };

    public static UInt128 ToUInt128(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        if (!address.TryWriteBytes(bytes, out int written))
            throw new ArgumentException($"cannot encode address {address}", nameof(address));
        return written == 4
            ? BinaryPrimitives.ReadUInt32BigEndian(bytes)
            : BinaryPrimitives.ReadUInt128BigEndian(bytes);
    }

    public static IPAddress FromUInt128(UInt128 value, AddressFamily family)
    {
        if (family == AddressFamily.InterNetwork)
        {
            if (value > uint.MaxValue)
                throw new OverflowException($"{value} does not fit an IPv4 address");
            Span<byte> four = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(four, (uint)value);
            return new IPAddress(four);
        }
        Span<byte> sixteen = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(sixteen, value);
        return new IPAddress(sixteen);
    }

    /// <summary>A mask with the top <paramref name="prefixLength"/> bits of the family set.</summary>
    public static UInt128 Mask(int prefixLength, AddressFamily family)
    {
        int bits = BitLength(family);
        if (prefixLength == 0) return UInt128.Zero;
        UInt128 all = bits == 32 ? uint.MaxValue : UInt128.MaxValue;
        return (all << (bits - prefixLength)) & all;
    }
}
