using Trellis.Addressing;

namespace Trellis.Netlink;

/// <param name="Scope">rtnetlink scope: 0 universe, 253 link, 254 host.</param>
public sealed record Address(int LinkIndex, Trellis.Addressing.IpPrefix Prefix, byte Scope);
