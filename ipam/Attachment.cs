namespace Trellis.Ipam;

/// <summary>
/// What CNI calls an attachment: one interface of one container, the unit ADD, DEL and GC
/// work on (and what GC's cni.dev/valid-attachments lists).
/// </summary>
public sealed record Attachment(string ContainerId, string IfName)
{
    public override string ToString() => $"container {ContainerId} interface {IfName}";
}

/// <summary>The pod an attachment is for, as the runtime named it in CNI_ARGS; each part is null when not given.</summary>
public sealed record PodIdentity(string? Namespace, string? Name, string? Uid)
{
    public override string ToString() =>
        $"pod {Namespace ?? "?"}/{Name ?? "?"}{(Uid is null ? "" : $" (uid {Uid})")}";
}
