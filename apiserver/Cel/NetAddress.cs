using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Trellis.ApiServer.Cel;

/// <summary>
/// IP addresses and prefixes parsed exactly as Go's net/netip does (what Kubernetes' CEL ip() and
/// cidr() use): IPv4 as four decimal fields without leading zeros, IPv6 per RFC 4291 with one "::"
/// and an optional dotted tail, no zones; a prefix length without leading zeros.
/// </summary>
public static class NetAddress
{
    public static bool TryParseAddress(string text, [NotNullWhen(true)] out IPAddress? address, out string error)
    {
        address = null;
        error = "";
        if (text.Contains('%')) { error = "zone"; return false; }
        if (text.Contains(':')) return TryParseIPv6(text, out address, out error);
        if (!TryParseIPv4(text, out var bytes, out error)) return false;
        address = new IPAddress(bytes);
        return true;
    }

    private static bool TryParseIPv4(string text, [NotNullWhen(true)] out byte[]? bytes, out string error)
    {
        bytes = null;
        error = "";
        var fields = text.Split('.');
        if (fields.Length != 4) { error = fields.Length < 4 ? "IPv4 address too short" : "IPv4 address too long"; return false; }
        var result = new byte[4];
        for (var i = 0; i < 4; i++)
        {
            var field = fields[i];
            if (field.Length == 0 || field.Length > 3 || !field.All(char.IsAsciiDigit)) { error = "unexpected character"; return false; }
            if (field.Length > 1 && field[0] == '0') { error = "IPv4 field has octet with leading zero"; return false; }
            var value = int.Parse(field, CultureInfo.InvariantCulture);
            if (value > 255) { error = "IPv4 field has value >255"; return false; }
            result[i] = (byte)value;
        }
        bytes = result;
        return true;
    }

    private static bool TryParseIPv6(string text, [NotNullWhen(true)] out IPAddress? address, out string error)
    {
        address = null;
        error = "";
        var groups = new List<ushort>();
        var ellipsis = -1;
        var i = 0;
        if (text.StartsWith("::", StringComparison.Ordinal)) { ellipsis = 0; i = 2; if (i == text.Length) { address = IPAddress.IPv6Any; return true; } }
        else if (text.StartsWith(':')) { error = "unexpected character, want colon"; return false; }
        while (i < text.Length)
        {
            var end = i;
            while (end < text.Length && char.IsAsciiHexDigit(text[end])) end++;
            if (end < text.Length && text[end] == '.')
            {
                if (ellipsis < 0 && groups.Count != 6 || groups.Count > 6) { error = "embedded IPv4 address must replace the final 2 fields of the address"; return false; }
                if (!TryParseIPv4(text[i..], out var v4, out error)) return false;
                groups.Add((ushort)(v4[0] << 8 | v4[1]));
                groups.Add((ushort)(v4[2] << 8 | v4[3]));
                i = text.Length;
                break;
            }
            var length = end - i;
            if (length == 0) { error = "unexpected character, want colon"; return false; }
            if (length > 4) { error = "each colon-separated field must have at most 4 hex digits"; return false; }
            groups.Add(ushort.Parse(text.AsSpan(i, length), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture));
            i = end;
            if (i == text.Length) break;
            if (text[i] != ':') { error = "unexpected character, want colon"; return false; }
            i++;
            if (i < text.Length && text[i] == ':')
            {
                if (ellipsis >= 0) { error = "multiple :: in address"; return false; }
                ellipsis = groups.Count;
                i++;
                if (i == text.Length) break;
            }
            else if (i == text.Length) { error = "colon must be followed by more characters"; return false; }
            if (groups.Count > 8) { error = "too many fields"; return false; }
        }
        if (ellipsis >= 0)
        {
            if (groups.Count >= 8) { error = "the :: must expand to at least one field of zeros"; return false; }
            groups.InsertRange(ellipsis, Enumerable.Repeat((ushort)0, 8 - groups.Count));
        }
        if (groups.Count != 8) { error = groups.Count < 8 ? "address string too short" : "too many fields"; return false; }
        var bytes = new byte[16];
        for (var g = 0; g < 8; g++) { bytes[2 * g] = (byte)(groups[g] >> 8); bytes[2 * g + 1] = (byte)groups[g]; }
        address = new IPAddress(bytes);
        return true;
    }

    public static bool TryParsePrefix(string text, [NotNullWhen(true)] out CelCidr? prefix, out string error)
    {
        prefix = null;
        var slash = text.LastIndexOf('/');
        if (slash < 0) { error = "no '/'"; return false; }
        var addressText = text[..slash];
        var bitsText = text[(slash + 1)..];
        if (addressText.Contains('%')) { error = "IPv6 zones cannot be present in a prefix"; return false; }
        if (!TryParseAddress(addressText, out var address, out error)) return false;
        if (bitsText.Length == 0 || !bitsText.All(char.IsAsciiDigit) || (bitsText.Length > 1 && bitsText[0] == '0') || bitsText.Length > 3)
        {
            error = $"bad bits after slash: \"{bitsText}\"";
            return false;
        }
        var bits = int.Parse(bitsText, CultureInfo.InvariantCulture);
        var max = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        if (bits > max) { error = "prefix length out of range"; return false; }
        prefix = new CelCidr(address, bits);
        return true;
    }

    public static IPAddress Mask(IPAddress address, int prefixLength)
    {
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var keep = Math.Clamp(prefixLength - i * 8, 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - keep));
        }
        return new IPAddress(bytes);
    }

    /// <summary>Go's netip.Addr.String(): IPv4 dotted, IPv6 per RFC 5952, IPv4-mapped as ::ffff:a.b.c.d.</summary>
    public static string Format(IPAddress address) => address.ToString();

    public static bool IsLoopback(IPAddress a) => IPAddress.IsLoopback(a) && !a.IsIPv4MappedToIPv6;
    public static bool IsUnspecified(IPAddress a) => a.Equals(IPAddress.Any) || a.Equals(IPAddress.IPv6Any);
    public static bool IsLinkLocalUnicast(IPAddress a) => a.AddressFamily == AddressFamily.InterNetwork
        ? a.GetAddressBytes() is [169, 254, ..]
        : a.GetAddressBytes() is [0xfe, var b, ..] && (b & 0xc0) == 0x80;
    public static bool IsLinkLocalMulticast(IPAddress a) => a.AddressFamily == AddressFamily.InterNetwork
        ? a.GetAddressBytes() is [224, 0, 0, _]
        : a.GetAddressBytes() is [0xff, var b, ..] && (b & 0x0f) == 0x02;
    public static bool IsMulticast(IPAddress a) => a.AddressFamily == AddressFamily.InterNetwork ? a.GetAddressBytes()[0] >= 224 && a.GetAddressBytes()[0] < 240 : a.GetAddressBytes()[0] == 0xff;
    /// <summary>Go's IsGlobalUnicast: not unspecified, loopback, multicast, link-local or the IPv4 broadcast address.</summary>
    public static bool IsGlobalUnicast(IPAddress a) =>
        !IsUnspecified(a) && !IPAddress.IsLoopback(a) && !IsMulticast(a) && !IsLinkLocalUnicast(a) && !a.Equals(IPAddress.Broadcast);
}
