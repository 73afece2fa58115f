using System.Net;
using System.Net.NetworkInformation;

namespace Trellis.Netlink;

/// <param name="Kind">IFLA_INFO_KIND: "bridge", "veth", "vxlan", or "" for a device without link info (lo, physical NICs).</param>
/// <param name="IsUp">IFF_UP: administratively up.</param>
/// <param name="Alias">IFLA_IFALIAS: free text an owner marks the link with; null when unset.</param>
/// <param name="ParentIndex">IFLA_LINK: for a veth, its peer's index (in the peer's namespace); null when the kernel reports none or the link itself.</param>
public sealed record Link(int Index, string Name, string Kind, int Mtu, PhysicalAddress? HardwareAddress, bool IsUp,
    int? MasterIndex, VxlanInfo? Vxlan, string? Alias = null, int? ParentIndex = null);

public sealed record VxlanInfo(int Vni, int Port, IPAddress? Local, int? UnderlayLinkIndex, bool Learning);

public sealed record VxlanLinkSpec(string Name, int Vni, int Port, IPAddress? Local, int? UnderlayLinkIndex,
    bool Learning = false, int? Mtu = null, PhysicalAddress? HardwareAddress = null);
