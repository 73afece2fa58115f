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

    /// <param name="hardwareAddress">
    /// A MAC the bridge keeps for life; without one the kernel gives it the lowest MAC of its ports, which changes as ports come and go.
    /// </param>
    public void AddBridge(string name, int? mtu = null, PhysicalAddress? hardwareAddress = null)
    {
        var operation = $"add bridge {name}";
        LinkCodec.ValidateName(name, operation);
        ValidateMtu(mtu, operation);
        Execute(Rtm.NEWLINK, CreateExclusive, operation, w => LinkCodec.WriteBridge(w, name, mtu, hardwareAddress));
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

    // The verbs below take the link, not its index, so every error names it ("set link veth1a2b master trellis0: ENODEV").

    public void SetLinkUp(Link link) =>
        Execute(Rtm.NEWLINK, 0, $"set link {link.Name} up", w => LinkCodec.WriteSelector(w, IndexOf(link), Ifla.IFF_UP, Ifla.IFF_UP));

    public void SetLinkDown(Link link) =>
        Execute(Rtm.NEWLINK, 0, $"set link {link.Name} down", w => LinkCodec.WriteSelector(w, IndexOf(link), 0, Ifla.IFF_UP));

    public void SetMtu(Link link, int mtu)
    {
        var operation = $"set link {link.Name} mtu {mtu}";
        ValidateMtu(mtu, operation);
        SetAttribute(link, operation, w => w.AttributeUInt32(Ifla.MTU, (uint)mtu));
    }

    public void SetMaster(Link link, Link master)
    {
        ArgumentNullException.ThrowIfNull(master);
        var operation = $"set link {link.Name} master {master.Name}";
        if (master.Index <= 0) throw new NetlinkException(operation, $"master {master.Name} has index {master.Index}, which is not a link");
        SetAttribute(link, operation, w => w.AttributeUInt32(Ifla.MASTER, (uint)master.Index));
    }

    /// <summary>Sets IFLA_IFALIAS (at most 255 bytes; empty clears it). The kernel ignores an alias given at creation, hence a verb of its own.</summary>
    public void SetAlias(Link link, string alias)
    {
        ArgumentNullException.ThrowIfNull(alias);
        var operation = $"set link {link.Name} alias \"{alias}\"";
        if (System.Text.Encoding.UTF8.GetByteCount(alias) > 255) throw new NetlinkException(operation, "an alias holds at most 255 bytes");
        SetAttribute(link, operation, w => w.AttributeString(Ifla.IFALIAS, alias));
    }

    public void RemoveMaster(Link link) =>
        SetAttribute(link, $"set link {link.Name} nomaster", static w => w.AttributeUInt32(Ifla.MASTER, 0));

    public void MoveToNamespace(Link link, NetworkNamespaceRef target)
    {
        ArgumentNullException.ThrowIfNull(target);
        int fd = target.Fd;
        SetAttribute(link, $"move link {link.Name} to namespace {target.Path}", w => w.AttributeUInt32(Ifla.NET_NS_FD, (uint)fd));
    }

    public void SetHardwareAddress(Link link, PhysicalAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var bytes = address.GetAddressBytes();
        var operation = $"set link {link.Name} address {HardwareAddressText.Format(address)}";
        if (bytes.Length == 0) throw new NetlinkException(operation, "the hardware address is empty");
        SetAttribute(link, operation, w => w.Attribute(Ifla.ADDRESS, bytes));
    }

    public void DeleteLink(Link link) =>
        Execute(Rtm.DELLINK, 0, $"delete link {link.Name}", w => LinkCodec.WriteSelector(w, IndexOf(link)));

    private static int IndexOf(Link link)
    {
        ArgumentNullException.ThrowIfNull(link);
        return link.Index;
    }

    private void SetAttribute(Link link, string operation, Action<NetlinkMessageWriter> attributes)
    {
        int index = IndexOf(link);
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
        return found ?? throw new NetlinkException(operation, Trellis.Linux.Errno.ENODEV);
    }

    private static void ValidateMtu(int? mtu, string operation)
    {
        if (mtu is < Trellis.Addressing.MtuBounds.Minimum or > Trellis.Addressing.MtuBounds.Maximum) throw new NetlinkException(operation, $"MTU {mtu} is outside {Trellis.Addressing.MtuBounds.Minimum}-{Trellis.Addressing.MtuBounds.Maximum}");
    }
}
