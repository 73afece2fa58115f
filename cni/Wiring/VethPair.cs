using Trellis.Cni.Spec;
using Trellis.Ipam;
using Trellis.Netlink;

namespace Trellis.Cni.Wiring;

/// <summary>
/// The veth between the bridge and a pod. Its host end takes the first of the attachment's
/// names (<see cref="HostInterface.Names"/>) that is free or already its own, and carries the
/// attachment's mark; nothing here deletes a link without first seeing it is the attachment's.
/// </summary>
public static class VethPair
{
    /// <summary>
    /// The first name of <paramref name="owner"/> that is free, or taken by the owner's own host
    /// end (an earlier ADD of it was interrupted). Code 11 when another pod's link holds every
    /// one, which takes a node of astronomically bad luck.
    /// </summary>
    public static string ChooseHostName(NetlinkHandle host, Attachment owner, NetlinkHandle pod)
    {
        foreach (var name in HostInterface.Names(owner))
            if (host.FindLink(name) is not Link link || IsOwnedBy(link, owner, pod, legacy: false)) return name;
        throw new CniException(CniErrorCode.TryAgainLater,
            $"every host interface name of {owner} ({HostInterface.Name(owner, 0)} and {HostInterface.NameAttempts - 1} more) is held by another pod's link");
    }

    /// <summary>
    /// True when <paramref name="link"/> is the host end of <paramref name="owner"/>: it carries
    /// the owner's mark; or it carries none (the plugin was killed between making and marking it)
    /// and its peer is the owner's interface in the pod's namespace <paramref name="pod"/>; or, with
    /// no namespace to look in, <paramref name="legacy"/> says it is the name the format-0 plugin
    /// gave, which marked no link.
    /// </summary>
    public static bool IsOwnedBy(Link link, Attachment owner, NetlinkHandle? pod, bool legacy)
    {
        if (link.Alias is not null) return HostInterface.IsMarkOf(link.Alias, owner);
        if (link.Kind != "veth") return false;
        if (pod is not null)
            return link.ParentIndex is int peer && pod.FindLink(owner.IfName) is Link podEnd && podEnd.Index == peer && podEnd.ParentIndex == link.Index;
        return legacy;
    }

    /// <summary>
    /// Creates the pair with the peer born inside the pod's namespace as the owner's interface,
    /// marks the host end, attaches it to <paramref name="bridge"/> and brings it up. A pair of
    /// the same owner left by an interrupted ADD (under this or another of its names) is replaced;
    /// another pod's link is left alone: a host name taken since it was chosen is code 11, an
    /// interface of that name already in the pod fails as the kernel says.
    /// </summary>
    public static Link Create(NetlinkHandle host, string hostName, Attachment owner, NetworkNamespaceRef podNamespace, NetlinkHandle pod, int? mtu, Link bridge)
    {
        try
        {
            host.AddVethPair(hostName, owner.IfName, podNamespace, mtu);
        }
        catch (NetlinkException e) when (e.IsAlreadyExists && LeftOver(host, hostName, owner, pod) is Link leftover)
        {
            DeleteLink(host, leftover);
            host.AddVethPair(hostName, owner.IfName, podNamespace, mtu);
        }
        var hostEnd = host.GetLink(hostName);
        host.SetAlias(hostEnd, HostInterface.Mark(owner));
        host.SetMaster(hostEnd, bridge);
        host.SetLinkUp(hostEnd);
        return hostEnd;
    }

    /// <summary>
    /// Deletes every host end of <paramref name="owner"/>: each of its names that is marked as its
    /// own (or unmarked with its peer in <paramref name="pod"/>), and the format-0 name when the
    /// attachment's records are that old. Returns how many went.
    /// </summary>
    /// <param name="pod">The pod's namespace, asked for only when a link carries no mark; null when there is none to look in.</param>
    public static int DeleteHostEnds(NetlinkHandle host, Attachment owner, Func<NetlinkHandle?> pod, bool legacy)
    {
        int deleted = 0;
        foreach (var name in legacy ? HostInterface.Names(owner).Append(HostInterface.LegacyName(owner)) : HostInterface.Names(owner))
        {
            if (host.FindLink(name) is not Link link) continue;
            bool legacyName = legacy && name == HostInterface.LegacyName(owner);
            if (IsOwnedBy(link, owner, link.Alias is null ? pod() : null, legacyName) && DeleteLink(host, link)) deleted++;
        }
        return deleted;
    }

    /// <summary>What made the creation fail with EEXIST, if it is the owner's: a host end of that name, or the pod's interface of an older pair of the owner.</summary>
    private static Link? LeftOver(NetlinkHandle host, string hostName, Attachment owner, NetlinkHandle pod)
    {
        if (host.FindLink(hostName) is Link existing)
        {
            if (IsOwnedBy(existing, owner, pod, legacy: false)) return existing;
            throw new CniException(CniErrorCode.TryAgainLater,
                $"host interface {hostName} for {owner} was taken by another pod's link while this ADD ran");
        }
        // The pod already has the interface: the peer of an older pair, whose host end is under another name.
        if (pod.FindLink(owner.IfName) is Link podEnd && podEnd.ParentIndex is int peer && host.FindLink(peer) is Link olderHostEnd &&
            (HostInterface.IsMarkOf(olderHostEnd.Alias, owner) ||
             (olderHostEnd.Alias is null && olderHostEnd.ParentIndex == podEnd.Index &&
              (HostInterface.Names(owner).Contains(olderHostEnd.Name) || olderHostEnd.Name == HostInterface.LegacyName(owner)))))
            return olderHostEnd;
        return null;
    }

    private static bool DeleteLink(NetlinkHandle host, Link link)
    {
        try
        {
            host.DeleteLink(link);
        }
        catch (NetlinkException e) when (e.IsNotFound)
        {
            return false;
        }
        return true;
    }
}
