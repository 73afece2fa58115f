using System.Diagnostics.CodeAnalysis;
using System.Net;

namespace Trellis.Addressing;

/// <summary>
/// An interface address with its prefix length, as the kernel and CNI results hold it:
/// "10.244.1.5/24" (host bits set, unlike <see cref="Cidr"/>).
/// </summary>
public readonly record struct IpPrefix(IPAddress Address, int PrefixLength)
{
    public Cidr Network => Cidr.Containing(Address, PrefixLength);

    public static IpPrefix Parse(string text)
    {
        if (!TryParse(text, out var prefix, out var error)) throw new FormatException(error);
        return prefix;
    }

    public static bool TryParse(string? text, out IpPrefix prefix, [NotNullWhen(false)] out string? error)
    {
        prefix = default;
        int slash = text?.IndexOf('/') ?? -1;
        if (text is null || slash <= 0)
        {
            error = $"\"{text}\" is not an address/prefix";
            return false;
        }
        if (!IPAddress.TryParse(text.AsSpan(0, slash), out var address) ||
            !int.TryParse(text.AsSpan(slash + 1), System.Globalization.NumberStyles.None, null, out int length) ||
            length > IpAddressMath.BitLength(address.AddressFamily))
        {
            error = $"\"{text}\" is not an address/prefix";
            return false;
        }
        prefix = new IpPrefix(address, length);
        error = null;
        return true;
    }

    public override string ToString() => $"{Address}/{PrefixLength}";
}
