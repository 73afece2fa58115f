using System.Net;

namespace Trellis.Ipam;

/// <summary>
/// Whose an address is: the attachment, the pod (when the runtime named it) and when it was
/// reserved. <see cref="Format"/> is the disk format it was read from (see
/// <see cref="AllocationRecordFormat"/>). The host interface is not recorded: its name follows
/// from the attachment (<see cref="HostInterface"/>).
/// </summary>
public sealed record AllocationRecord(Attachment Owner, PodIdentity? Pod, DateTimeOffset? Created, int Format = AllocationRecordFormat.Current)
{
    /// <summary>Written by the plugin before records carried a pod or a time (format 0); its host interface has <see cref="HostInterface.LegacyName"/> and no mark.</summary>
    public bool IsLegacy => Format == AllocationRecordFormat.Legacy;
}

/// <summary>
/// One address in use: its allocation file's name is the address, its content the record.
/// <see cref="Record"/> is null when the file cannot be read as one (a file an old plugin left
/// cut short by a crash, a symbolic link, anything else put there): the address stays taken,
/// DEL cannot find it, GC frees it.
/// </summary>
public sealed record Allocation(IPAddress Address, AllocationRecord? Record)
{
    public Attachment? Owner => Record?.Owner;
}
