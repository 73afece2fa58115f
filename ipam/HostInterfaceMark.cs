namespace Trellis.Ipam;

/// <summary>
/// The mark the plugin puts on a pod's host-side veth (its IFLA_IFALIAS), so that whoever
/// deletes a host interface (DEL, GC, the agent's reclaim) first checks it belongs to the
/// attachment it is cleaning up. Held here, beside the records that name the interface, so
/// the plugin and the agent read one definition.
/// </summary>
public static class HostInterfaceMark
{
    private const string Prefix = "trellis-cni ";

    /// <summary>The kernel keeps at most 255 bytes of alias; the container ID is bounded so the mark always fits.</summary>
    public const int MaxContainerIdLength = 200;

    public static string For(Attachment owner) => $"{Prefix}{owner.ContainerId}/{owner.IfName}";

    /// <summary>True when <paramref name="alias"/> is the mark of <paramref name="owner"/>.</summary>
    public static bool IsMarkOf(string? alias, Attachment owner) => alias == For(owner);

    /// <summary>True when <paramref name="alias"/> is some attachment's mark (of this plugin, but maybe another pod).</summary>
    public static bool IsAnyMark(string? alias) => alias is not null && alias.StartsWith(Prefix, StringComparison.Ordinal);
}
