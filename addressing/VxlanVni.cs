namespace Trellis.Addressing;

/// <summary>
/// The VXLAN network identifiers a PodNetwork may use: the header holds 24 bits (RFC 7348), so
/// 16777215 is the last. The API has always started at 1; netlink itself also accepts the wire's 0.
/// </summary>
public static class VxlanVni
{
    public const int Minimum = 1;
    public const int Maximum = (1 << 24) - 1;
}
