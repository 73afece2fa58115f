using System.Net.Sockets;
using Trellis.Netlink.Messages;

namespace Trellis.Netlink;

public sealed partial class NetlinkHandle
{
    private const ushort CreateReplace = Nlmsg.NLM_F_CREATE | Nlmsg.NLM_F_REPLACE;

    public void ReplaceNeighbor(Neighbor neighbor)
    {
        var operation = DescribeNeighbor("replace neighbor", neighbor);
        Execute(Rtm.NEWNEIGH, CreateReplace, operation, w => NeighborCodec.WriteNeighbor(w, neighbor));
    }

    public void DeleteNeighbor(Neighbor neighbor)
    {
        var operation = DescribeNeighbor("delete neighbor", neighbor);
        Execute(Rtm.DELNEIGH, 0, operation, w => NeighborCodec.WriteNeighbor(w, neighbor));
    }

    public IReadOnlyList<Neighbor> ListNeighbors(AddressFamily family, int? linkIndex = null)
    {
        byte requested = AddressFamilies.Of(family);
        var all = Dump(Rtm.GETNEIGH, "list neighbors", w => new NeighborMessage(requested, 0, 0, 0, 0).WriteTo(w), NeighborCodec.DecodeNeighbor);
        if (linkIndex is { } wanted) all.RemoveAll(neighbor => neighbor.LinkIndex != wanted);
        return all;
    }

    /// <summary>Adds an entry even when one for the same MAC exists (several remote VTEPs for the all-zero MAC, for flooding).</summary>
    public void AppendFdb(FdbEntry entry) =>
        ChangeFdb(Rtm.NEWNEIGH, Nlmsg.NLM_F_CREATE | Nlmsg.NLM_F_APPEND, "append fdb", entry);

    public void ReplaceFdb(FdbEntry entry) => ChangeFdb(Rtm.NEWNEIGH, CreateReplace, "replace fdb", entry);

    public void DeleteFdb(FdbEntry entry) => ChangeFdb(Rtm.DELNEIGH, 0, "delete fdb", entry);

    public IReadOnlyList<FdbEntry> ListFdb(int? linkIndex = null)
    {
        var all = Dump(Rtm.GETNEIGH, "list fdb",
            static w => new NeighborMessage(AddressFamilies.AF_BRIDGE, 0, 0, 0, 0).WriteTo(w), NeighborCodec.DecodeFdb);
        if (linkIndex is { } wanted) all.RemoveAll(entry => entry.LinkIndex != wanted);
        return all;
    }

    private void ChangeFdb(ushort type, ushort flags, string verb, FdbEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var operation = $"{verb} {HardwareAddressText.Format(entry.HardwareAddress)}" +
            (entry.Destination is null ? "" : $" dst {entry.Destination}") +
            (entry.Vni is null ? "" : $" vni {entry.Vni}") + $" dev {entry.LinkIndex}";
        if (entry.LinkIndex <= 0) throw new NetlinkException(operation, $"link index {entry.LinkIndex} is not a link");
        if (entry.HardwareAddress.GetAddressBytes().Length != 6) throw new NetlinkException(operation, "the MAC address must be 6 bytes");
        if (entry.Port is < 1 or > 65535) throw new NetlinkException(operation, $"port {entry.Port} is outside 1-65535");
        if (entry.Vni is < 0 or > Trellis.Addressing.VxlanVni.Maximum) throw new NetlinkException(operation, $"VNI {entry.Vni} is outside 0-{Trellis.Addressing.VxlanVni.Maximum}");
        Execute(type, flags, operation, w => NeighborCodec.WriteFdb(w, entry));
    }

    private static string DescribeNeighbor(string verb, Neighbor neighbor)
    {
        ArgumentNullException.ThrowIfNull(neighbor);
        var operation = $"{verb} {neighbor.Address}" +
            (neighbor.HardwareAddress is null ? "" : $" lladdr {HardwareAddressText.Format(neighbor.HardwareAddress)}") +
            $" dev {neighbor.LinkIndex}";
        if (neighbor.LinkIndex <= 0) throw new NetlinkException(operation, $"link index {neighbor.LinkIndex} is not a link");
        if (neighbor.Address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
            throw new NetlinkException(operation, "the address is neither IPv4 nor IPv6");
        return operation;
    }
}
