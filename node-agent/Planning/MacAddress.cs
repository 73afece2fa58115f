using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace Trellis.NodeAgent.Planning;

/// <summary>A 48-bit Ethernet address, as a value so plans and kernel state compare by equality.</summary>
public readonly record struct MacAddress(ulong Value)
{
    /// <summary>
    /// Locally administered, unicast (0x0e: bit 1 set, bit 0 clear) and distinct from the 0a:58
    /// prefix Kubernetes gives pods, so a Trellis VTEP address can never collide with a pod's.
    /// </summary>
    public const byte VtepPrefix0 = 0x0e;
    public const byte VtepPrefix1 = 0x74;

    /// <summary>True for an address made by <see cref="ForVtep"/>: the mark by which the agent knows its own FDB entries (the kernel keeps no protocol for them).</summary>
    public bool IsVtep => (Value >> 32) == ((ulong)VtepPrefix0 << 8 | VtepPrefix1);

    public static MacAddress FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != 6) throw new ArgumentException($"a MAC address has 6 bytes, not {bytes.Length}", nameof(bytes));
        ulong value = 0;
        foreach (var b in bytes) value = (value << 8) | b;
        return new MacAddress(value);
    }

    public byte[] ToBytes()
    {
        var bytes = new byte[6];
        for (int i = 0; i < 6; i++) bytes[i] = (byte)(Value >> (8 * (5 - i)));
        return bytes;
    }

    /// <summary>
    /// The VTEP MAC of the node whose underlay address is <paramref name="underlay"/>: every peer
    /// derives the same value on its own, so no node has to publish it or wait for an exchange.
    /// IPv4 addresses are embedded; IPv6 addresses are hashed into the last four bytes.
    /// </summary>
    public static MacAddress ForVtep(IPAddress underlay)
    {
        Span<byte> mac = stackalloc byte[6];
        mac[0] = VtepPrefix0;
        mac[1] = VtepPrefix1;
        var address = underlay.IsIPv4MappedToIPv6 ? underlay.MapToIPv4() : underlay;
        if (address.AddressFamily == AddressFamily.InterNetwork)
            address.TryWriteBytes(mac[2..], out _);
        else
            SHA256.HashData(address.GetAddressBytes()).AsSpan(0, 4).CopyTo(mac[2..]);
        return FromBytes(mac);
    }

    public static MacAddress Parse(string text)
    {
        var parts = text.Split(':');
        if (parts.Length != 6) throw new FormatException($"\"{text}\" is not a MAC address");
        var bytes = new byte[6];
        for (int i = 0; i < 6; i++)
            if (parts[i].Length != 2 || !byte.TryParse(parts[i], NumberStyles.HexNumber, null, out bytes[i]))
                throw new FormatException($"\"{text}\" is not a MAC address");
        return FromBytes(bytes);
    }

    public override string ToString() => string.Join(':', ToBytes().Select(b => b.ToString("x2", CultureInfo.InvariantCulture)));
}
