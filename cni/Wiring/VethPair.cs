using Trellis.Cni.Spec;
using Trellis.Ipam;
using Trellis.Netlink;

namespace Trellis.Cni.Wiring;

/// <summary>
/// The veth between the bridge and a pod. The host end's name is "veth" and 11 base32
/// characters (55 bits) of a hash of the attachment and an attempt number, so names of two
/// pods collide about once in 2^27 pairs of pods on one node; when one does, the next attempt
/// gives another name. The chosen name goes into the allocation record, and the link carries
/// its attachment's mark (<see cref="HostInterfaceMark"/>, as its alias): nothing here deletes
/// a host end without first seeing it is its own.
/// </summary>
public static class VethPair
{
    /// <summary>More than enough: a second attempt is already a one-in-2^27 event.</summary>
    public const int NameAttempts = 8;

    private const string Base32 = "abcdefghijklmnopqrstuvwxyz234567";

    /// <summary>The host end's name for <paramref name="owner"/> at <paramref name="attempt"/> (0 first).</summary>
    public static string HostName(Attachment owner, int attempt)
    {
        ulong hash = 14695981039346656037UL;
        foreach (var part in (ReadOnlySpan<string>)[owner.ContainerId, "/", owner.IfName, "/", attempt.ToString(System.Globalization.CultureInfo.InvariantCulture)])
            foreach (var c in part)
            {
                hash ^= c;
                hash *= 1099511628211UL;
            }
        // FNV-1a mixes its last bytes poorly into the high bits; a finaliser spreads every input bit over all of them.
        hash ^= hash >> 33;
        hash *= 0xff51afd7ed558ccdUL;
        hash ^= hash >> 33;
        hash *= 0xc4ceb9fe1a85ec53UL;
        hash ^= hash >> 33;
        Span<char> name = stackalloc char[15];
        "veth".CopyTo(name);
        for (int i = 0; i < 11; i++) name[4 + i] = Base32[(int)((hash >> (5 * i)) & 31)];
        return new string(name);
    }

    /// <summary>
    /// The first name for <paramref name="owner"/> that is free, or taken by the owner's own
    /// host end (an earlier ADD of it was interrupted). 11 (try again later) when every
    /// attempt is held by another pod's link, which takes a node of astronomically bad luck.
    /// </summary>
    public static string ChooseHostName(NetlinkHandle host, Attachment owner, NetlinkHandle pod)
    {
        for (int attempt = 0; attempt < NameAttempts; attempt++)
        {
            var name = HostName(owner, attempt);
            if (host.FindLink(name) is not Link link || IsOwnedBy(link, owner, pod, legacy: false)) return name;
        }
        throw new CniException(CniErrorCode.TryAgainLater,
            $"every host interface name of {owner} ({HostName(owner, 0)} and {NameAttempts - 1} more) is held by another pod's link");
    }

    /// <summary>
    /// True when <paramref name="link"/> is the host end of <paramref name="owner"/>: it carries
    /// the owner's mark; or it carries none (the plugin was killed between making it and marking
    /// it) and its peer is the owner's interface in the pod's namespace <paramref name="pod"/>;
    /// or, with no namespace to look in, it was made by the format-0 plugin (<paramref name="legacy"/>),
    /// which never marked a link.
    /// </summary>
    public static bool IsOwnedBy(Link link, Attachment owner, NetlinkHandle? pod, bool legacy)
    {
        if (link.Alias is not null) return HostInterfaceMark.IsMarkOf(link.Alias, owner);
        if (link.Kind != "veth") return false;
        if (pod is not null)
            return link.ParentIndex is int peer && pod.FindLink(owner.IfName) is Link podEnd && podEnd.Index == peer && podEnd.ParentIndex == link.Index;
        return legacy;
    }

    /// <summary>
    /// Creates the pair with the peer born inside the pod's namespace as the owner's interface,
    /// marks the host end, attaches it to <paramref name="bridge"/> and brings it up. A host end
    /// of the same owner left by an interrupted ADD is replaced; another pod's link of that
    /// name (made since the name was chosen) is left alone and the ADD fails with code 11.
    /// </summary>
    public static Link Create(NetlinkHandle host, string hostName, Attachment owner, NetworkNamespaceRef podNamespace, NetlinkHandle pod, int? mtu, Link bridge)
    {
        try
        {
            host.AddVethPair(hostName, owner.IfName, podNamespace, mtu);
        }
        catch (NetlinkException e) when (e.IsAlreadyExists && host.FindLink(hostName) is Link existing)
        {
            if (!IsOwnedBy(existing, owner, pod, legacy: false))
                throw new CniException(CniErrorCode.TryAgainLater,
                    $"host interface {hostName} for {owner} was taken by another pod's link while this ADD ran", e.Message);
            DeleteLink(host, existing);
            host.AddVethPair(hostName, owner.IfName, podNamespace, mtu);
        }
        var hostEnd = host.GetLink(hostName);
        host.SetAlias(hostEnd.Index, HostInterfaceMark.For(owner));
        host.SetMaster(hostEnd.Index, bridge.Index);
        host.SetLinkUp(hostEnd.Index);
        return hostEnd;
    }

    /// <summary>
    /// Deletes <paramref name="hostName"/> (and with it the pod end) if it is <paramref name="owner"/>'s;
    /// false when there was none or it belongs to someone else.
    /// </summary>
    /// <param name="pod">The pod's namespace, asked for only when the link carries no mark; null when there is none to look in.</param>
    public static bool DeleteHostEnd(NetlinkHandle host, string hostName, Attachment owner, Func<NetlinkHandle?> pod, bool legacy)
    {
        if (host.FindLink(hostName) is not Link link) return false;
        if (!IsOwnedBy(link, owner, link.Alias is null ? pod() : null, legacy)) return false;
        return DeleteLink(host, link);
    }

    private static bool DeleteLink(NetlinkHandle host, Link link)
    {
        try
        {
            host.DeleteLink(link.Index);
        }
        catch (NetlinkException e) when (e.IsNotFound)
        {
            return false;
        }
        return true;
    }
}
