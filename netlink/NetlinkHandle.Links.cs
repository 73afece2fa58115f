using System.Net.NetworkInformation;
using Trellis.Netlink.Messages;

namespace Trellis.Netlink;

public sealed partial class NetlinkHandle
{
    private const ushort CreateExclusive = Nlmsg.NLM_F_CREATE | Nlmsg.NLM_F_EXCL;

    public IReadOnlyList<Link> ListLinks() =>
        Dump(Rtm.GETLINK, "list links", static w => LinkCodec.WriteSelector(w, 0), LinkCodec.Decode);

    /// <summary>The link called <paramref name="name"/>, or null when there is none.</summary>
    public Link? FindLink(string name)
    {
        try
        {
            return GetLink(name);
        }
        catch (NetlinkException e) when (e.IsNotFound)
        {
            return null;
        }
    }

    /// <summary>The link with this index, or null when there is none.</summary>
    public Link? FindLink(int index)
    {
        if (index <= 0) return null;
        try
        {
            return GetLinkBy($"get link {index}", w => LinkCodec.WriteSelector(w, index));
        }
        catch (NetlinkException e) when (e.IsNotFound)
        {
            return null;
        }
    }

    /// <summary>The link called <paramref name="name"/>; throws <see cref="NetlinkException"/> ("get link foo: ENODEV") when absent.</summary>
    public Link GetLink(string name)
    {
        var operation = $"get link {name}";
        LinkCodec.ValidateName(name, operation);
        return GetLinkBy(operation, w =>
        {
            LinkCodec.WriteSelector(w, 0);
            w.AttributeString(Ifla.IFNAME, name);
        });
    }

    public void AddBridge(string name, int? mtu = null)
    {
        var operation = $"add bridge {name}";
        LinkCodec.ValidateName(name, operation);
        ValidateMtu(mtu, operation);
        Execute(Rtm.NEWLINK, CreateExclusive, operation, w => LinkCodec.WriteBridge(w, name, mtu));
    }

    /// <summary>Creates a veth pair; with <paramref name="peerNamespace"/> the peer is born inside that namespace, never visible here.</summary>
    public void AddVethPair(string name, string peerName, NetworkNamespaceRef? peerNamespace = null, int? mtu = null)
    {
        var operation = peerNamespace is null
            ? $"add veth {name} peer {peerName}"
            : $"add veth {name} peer {peerName} in {peerNamespace.Path}";
        LinkCodec.ValidateName(name, operation);
        LinkCodec.ValidateName(peerName, operation);
        ValidateMtu(mtu, operation);
        int? fd = peerNamespace?.Fd;
        Execute(Rtm.NEWLINK, CreateExclusive, operation, w => LinkCodec.WriteVethPair(w, name, peerName, fd, mtu));
    }

    public void AddVxlan(VxlanLinkSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var operation = $"add vxlan {spec.Name} vni {spec.Vni}";
        LinkCodec.ValidateName(spec.Name, operation);
        ValidateMtu(spec.Mtu, operation);
        if (spec.Vni is < 0 or > Trellis.Addressing.VxlanVni.Maximum) throw new NetlinkException(operation, $"VNI {spec.Vni} is outside 0-{Trellis.Addressing.VxlanVni.Maximum}");
        if (spec.Port is < 1 or > 65535) throw new NetlinkException(operation, $"port {spec.Port} is outside 1-65535");
        Execute(Rtm.NEWLINK, CreateExclusive, operation, w => LinkCodec.WriteVxlan(w, spec));
    }

    public void SetLinkUp(int index) =>
        Execute(Rtm.NEWLINK, 0, $"set link {index} up", w => LinkCodec.WriteSelector(w, index, Ifla.IFF_UP, Ifla.IFF_UP));

    public void SetLinkDown(int index) =>
        Execute(Rtm.NEWLINK, 0, $"set link {index} down", w => LinkCodec.WriteSelector(w, index, 0, Ifla.IFF_UP));

    public void SetMtu(int index, int mtu)
    {
        var operation = $"set link {index} mtu {mtu}";
        ValidateMtu(mtu, operation);
        SetAttribute(index, operation, w => w.AttributeUInt32(Ifla.MTU, (uint)mtu));
    }

    public void SetMaster(int index, int masterIndex)
    {
        var operation = $"set link {index} master {masterIndex}";
        if (masterIndex <= 0) throw new NetlinkException(operation, $"master index {masterIndex} is not a link");
        SetAttribute(index, operation, w => w.AttributeUInt32(Ifla.MASTER, (uint)masterIndex));
    }

    /// <summary>Sets IFLA_IFALIAS (at most 255 bytes; empty clears it). The kernel ignores an alias given at creation, hence a verb of its own.</summary>
    public void SetAlias(int index, string alias)
    {
        ArgumentNullException.ThrowIfNull(alias);
        var operation = $"set link {index} alias \"{alias}\"";
        if (System.Text.Encoding.UTF8.GetByteCount(alias) > 255) throw new NetlinkException(operation, "an alias holds at most 255 bytes");
        SetAttribute(index, operation, w => w.AttributeString(Ifla.IFALIAS, alias));
    }

    public void RemoveMaster(int index) =>
        SetAttribute(index, $"set link {index} nomaster", static w => w.AttributeUInt32(Ifla.MASTER, 0));

    public void MoveToNamespace(int index, NetworkNamespaceRef target)
    {
        ArgumentNullException.ThrowIfNull(target);
        int fd = target.Fd;
        SetAttribute(index, $"move link {index} to namespace {target.Path}", w => w.AttributeUInt32(Ifla.NET_NS_FD, (uint)fd));
    }

    public void SetHardwareAddress(int index, PhysicalAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var bytes = address.GetAddressBytes();
        var operation = $"set link {index} address {HardwareAddressText.Format(address)}";
        if (bytes.Length == 0) throw new NetlinkException(operation, "the hardware address is empty");
        SetAttribute(index, operation, w => w.Attribute(Ifla.ADDRESS, bytes));
    }

    public void DeleteLink(int index) =>
        Execute(Rtm.DELLINK, 0, $"delete link {index}", w => LinkCodec.WriteSelector(w, index));

    private void SetAttribute(int index, string operation, Action<NetlinkMessageWriter> attributes)
    {
        if (index <= 0) throw new NetlinkException(operation, $"link index {index} is not a link");
        Execute(Rtm.NEWLINK, 0, operation, w =>
        {
            LinkCodec.WriteSelector(w, index);
            attributes(w);
        });
    }

    private Link GetLinkBy(string operation, Action<NetlinkMessageWriter> write)
    {
        Link? found = null;
        Execute(Rtm.GETLINK, 0, operation, write, message => found ??= LinkCodec.Decode(message));
        return found ?? throw new NetlinkException(operation, Errno.ENODEV);
    }

    private static void ValidateMtu(int? mtu, string operation)
    {
        if (mtu is < Trellis.Addressing.MtuBounds.Minimum or > Trellis.Addressing.MtuBounds.Maximum) throw new NetlinkException(operation, $"MTU {mtu} is outside {Trellis.Addressing.MtuBounds.Minimum}-{Trellis.Addressing.MtuBounds.Maximum}");
    }
}
