namespace Trellis.Netlink.Tests;

/// <summary>Hex written for people: spaces and line breaks between bytes are ignored.</summary>
internal static class Hex
{
    public static byte[] Bytes(params string[] parts) =>
        Convert.FromHexString(string.Concat(parts).Replace(" ", "").Replace("\n", ""));

    public static string Of(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes).ToLowerInvariant();
}
