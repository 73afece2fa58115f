namespace Trellis.Addressing;

/// <summary>
/// The MTUs a pod network may have, defined once: the CRDs' schema and CEL rules (config/crd, held to
/// these by Trellis.Crds.Tests), the operator's validator, the agent's NodeSubnet parser, the plugin's
/// configuration parser and netlink all check against these numbers.
/// </summary>
public static class MtuBounds
{
    /// <summary>
    /// IPv4's floor (RFC 791: every module forwards 68 octets unfragmented) and the kernel's own for
    /// bridges, veths and VXLAN devices. Anything from here up works for IPv4, so nothing that a
    /// user could write before is refused.
    /// </summary>
    public const int Minimum = 68;

    /// <summary>
    /// IPv6's floor (RFC 8200 §5): on a link below it the kernel turns IPv6 off and drops the
    /// interface's IPv6 addresses, so a network with an IPv6 range would lose its gateways and pods.
    /// </summary>
    public const int MinimumWithIPv6 = 1280;

    /// <summary>The largest packet IP's 16-bit length fields describe.</summary>
    public const int Maximum = 65_535;

    /// <summary>What is wrong with <paramref name="mtu"/> for a network with or without IPv6 ranges, or null when nothing is.</summary>
    public static string? Problem(int mtu, bool withIPv6) =>
        mtu is < Minimum or > Maximum ? $"MTU {mtu} is outside {Minimum}..{Maximum}"
        : withIPv6 && mtu < MinimumWithIPv6 ? $"MTU {mtu} is below {MinimumWithIPv6}, the least IPv6 allows (the kernel turns IPv6 off on a smaller link)"
        : null;
}
