using System.Net;
using System.Net.NetworkInformation;

namespace Trellis.Netlink;

/// <param name="Protocol">NDA_PROTOCOL: who installed the entry.</param>
public sealed record Neighbor(int LinkIndex, IPAddress Address, PhysicalAddress? HardwareAddress,
    NeighborState State = NeighborState.Permanent, byte? Protocol = null);

[Flags]
public enum NeighborState : ushort
{
    Incomplete = 0x01,
    Reachable = 0x02,
    Stale = 0x04,
    Delay = 0x08,
    Probe = 0x10,
    Failed = 0x20,
    NoArp = 0x40,
    Permanent = 0x80,
}

/// <summary>A bridge or VXLAN forwarding entry (AF_BRIDGE, NTF_SELF): on a VXLAN device, <paramref name="Destination"/> is the remote VTEP.</summary>
public sealed record FdbEntry(int LinkIndex, PhysicalAddress HardwareAddress, IPAddress? Destination,
    NeighborState State = NeighborState.Permanent, int? Vni = null, int? Port = null);
