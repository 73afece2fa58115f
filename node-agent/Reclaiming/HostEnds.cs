using Trellis.Ipam;
using Trellis.Netlink;

namespace Trellis.NodeAgent.Reclaiming;

/// <summary>
/// The host veths of allocations, as the agent sees them. A sandbox is up while its attachment's
/// host end exists: the kernel removes the pair with the pod's namespace, so a reboot or a
/// sandbox torn down without DEL leaves none. Only a link carrying the attachment's mark is ever
/// deleted; an unmarked veth under one of its names (an ADD killed between making and marking
/// it) counts as the sandbox being up, so its address is never freed while a pod end may carry it.
/// </summary>
public static class HostEnds
{
    /// <summary>The attachments among <paramref name="owners"/> with a host end in <paramref name="links"/>. Pure.</summary>
    public static IReadOnlySet<Attachment> Present(IReadOnlyList<Link> links, IEnumerable<Attachment> owners)
    {
        var byName = new Dictionary<string, Link>(StringComparer.Ordinal);
        foreach (var link in links) byName[link.Name] = link;
        return owners.Where(owner => HostInterface.Names(owner).Any(name => byName.TryGetValue(name, out var link) && IsOrMayBe(link, owner))).ToHashSet();
    }

    /// <summary>
    /// Deletes the host ends marked as <paramref name="owner"/>'s. False, deleting nothing, when an
    /// unmarked veth holds one of its names: whose it is cannot be told, so the address stays held.
    /// </summary>
    public static bool TryDelete(NetlinkHandle host, Attachment owner)
    {
        var marked = new List<Link>();
        foreach (var name in HostInterface.Names(owner))
        {
            if (host.FindLink(name) is not Link link) continue;
            if (HostInterface.IsMarkOf(link.Alias, owner)) marked.Add(link);
            else if (IsOrMayBe(link, owner)) return false;
        }
        foreach (var link in marked)
        {
            try
            {
                host.DeleteLink(link);
            }
            catch (NetlinkException e) when (e.IsNotFound)
            {
                // Gone meanwhile (its namespace went): what was wanted.
            }
        }
        return true;
    }

    private static bool IsOrMayBe(Link link, Attachment owner) =>
        link.Alias is null ? link.Kind == "veth" : HostInterface.IsMarkOf(link.Alias, owner);
}
