using Trellis.Netlink;

namespace Trellis.Cni.Wiring;

/// <summary>
/// The veth between the bridge and a pod. The host end's name is derived from the attachment
/// alone, so DEL and GC find it even after the pod's namespace is gone.
/// </summary>
public static class VethPair
{
    /// <summary>"veth" and eight hex digits of a 64-bit FNV-1a hash of container ID and interface name.</summary>
    public static string HostName(string containerId, string ifName)
    {
        ulong hash = 14695981039346656037UL;
        foreach (var part in (ReadOnlySpan<string>)[containerId, "/", ifName])
            foreach (var c in part)
            {
                hash ^= c;
                hash *= 1099511628211UL;
            }
        return $"veth{(uint)(hash ^ (hash >> 32)):x8}";
    }

    /// <summary>
    /// Creates the pair with the peer born inside the pod's namespace as <paramref name="podIfName"/>,
    /// attaches the host end to <paramref name="bridge"/> and brings it up. A host end left by an
    /// earlier, interrupted ADD of the same attachment is replaced.
    /// </summary>
    public static Link Create(NetlinkHandle host, string hostName, string podIfName, NetworkNamespaceRef podNamespace, int? mtu, Link bridge)
    {
        try
        {
            host.AddVethPair(hostName, podIfName, podNamespace, mtu);
        }
        catch (NetlinkException e) when (e.IsAlreadyExists && DeleteHostEnd(host, hostName))
        {
            host.AddVethPair(hostName, podIfName, podNamespace, mtu);
        }
        var hostEnd = host.GetLink(hostName);
        host.SetMaster(hostEnd.Index, bridge.Index);
        host.SetLinkUp(hostEnd.Index);
        return hostEnd;
    }

    /// <summary>Deletes the host end (and with it the pod end); false when there was none.</summary>
    public static bool DeleteHostEnd(NetlinkHandle host, string hostName)
    {
        if (host.FindLink(hostName) is not Link link) return false;
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
