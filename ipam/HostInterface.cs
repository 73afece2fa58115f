namespace Trellis.Ipam;

/// <summary>
/// The host end of an attachment's veth: the names it may have and the mark it carries. Held
/// here, beside the records, so the plugin and the agent (which frees what a gone pod left)
/// share one definition. A name is "veth" and 11 base32 characters (55 bits) of a hash of the
/// attachment and an attempt number: two pods' names collide about once in 2^27 pairs on one
/// node, and when they do the plugin takes the next attempt. Which attempt a link got is not
/// recorded; whoever looks for it checks each name for the mark (the link's IFLA_IFALIAS),
/// and nothing deletes a host end without first seeing the mark of the attachment it is
/// cleaning up.
/// </summary>
public static class HostInterface
{
    /// <summary>More than enough: a second attempt is already a one-in-2^27 event.</summary>
    public const int NameAttempts = 8;

    /// <summary>The kernel keeps at most 255 bytes of alias; the container ID is bounded so the mark always fits.</summary>
    public const int MaxContainerIdLength = 200;

    private const string MarkPrefix = "trellis-cni ";
    private const string Base32 = "abcdefghijklmnopqrstuvwxyz234567";

    /// <summary>The name for <paramref name="owner"/> at <paramref name="attempt"/> (0 first).</summary>
    public static string Name(Attachment owner, int attempt)
    {
        ulong hash = Fnv1a(owner, $"/{attempt.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
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

    /// <summary>Every name <paramref name="owner"/>'s host end may have, in the order the plugin tries them.</summary>
    public static IEnumerable<string> Names(Attachment owner) =>
        Enumerable.Range(0, NameAttempts).Select(attempt => Name(owner, attempt));

    /// <summary>
    /// The name the plugin gave host ends before records carried a format (format 0): "veth" and
    /// eight hex digits of FNV-1a over "containerID/ifname". Such links carry no mark.
    /// </summary>
    public static string LegacyName(Attachment owner)
    {
        ulong hash = Fnv1a(owner, "");
        return $"veth{(uint)(hash ^ (hash >> 32)):x8}";
    }

    public static string Mark(Attachment owner) => $"{MarkPrefix}{owner.ContainerId}/{owner.IfName}";

    /// <summary>True when <paramref name="alias"/> is the mark of <paramref name="owner"/>.</summary>
    public static bool IsMarkOf(string? alias, Attachment owner) => alias == Mark(owner);

    private static ulong Fnv1a(Attachment owner, string suffix)
    {
        ulong hash = 14695981039346656037UL;
        foreach (var part in (ReadOnlySpan<string>)[owner.ContainerId, "/", owner.IfName, suffix])
            foreach (var c in part)
            {
                hash ^= c;
                hash *= 1099511628211UL;
            }
        return hash;
    }
}
