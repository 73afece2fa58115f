using Trellis.Addressing;
using Trellis.Crds;
using Trellis.Operator.Facts;

namespace Trellis.Operator.Planning;

/// <summary>A NodeSubnet to delete, and why (for the log).</summary>
public sealed record NodeSubnetDeletion(NodeSubnet Subnet, string Why);

/// <summary>A NodeSubnet whose stored form differs from the plan.</summary>
public sealed record NodeSubnetUpdate(NodeSubnet Current, NodeSubnet Desired);

/// <summary>A block given to (or taken back from) a node in the allocator, for the log.</summary>
public sealed record BlockChange(string Node, Cidr Block);

/// <summary>Node.spec.podCIDRs to set, for a node whose spec has none (only when the operator is asked to).</summary>
public sealed record PodCidrAssignment(NodeFacts Node, IReadOnlyList<string> Cidrs);

/// <summary>
/// Everything one reconcile of one PodNetwork will change, decided without I/O: the NodeSubnets to delete,
/// create and update, the blocks taken from and returned to the pool, the nodes' podCIDRs, and the status
/// (null when none is written: the network is gone or going).
/// </summary>
public sealed record PodNetworkPlan(
    string Network,
    IReadOnlyList<NodeSubnetDeletion> Delete,
    IReadOnlyList<NodeSubnet> Create,
    IReadOnlyList<NodeSubnetUpdate> Update,
    IReadOnlyList<BlockChange> Taken,
    IReadOnlyList<BlockChange> Released,
    IReadOnlyList<PodCidrAssignment> PodCidrs,
    NetworkObservation? Status,
    bool RemovePoolOnceDeleted)
{
    /// <summary>NodeSubnets the plan wants to exist once applied.</summary>
    public int Desired { get; init; }

    /// <summary>Extra blocks that stayed empty, now draining: closed to new pods on their node until its agent reports them drained.</summary>
    public IReadOnlyList<BlockChange> Draining { get; init; } = [];

    /// <summary>Draining blocks opened again: a pod got an address in one before its close, or its family runs low.</summary>
    public IReadOnlyList<BlockChange> Reopened { get; init; } = [];

    /// <summary>Drained blocks dropped from their NodeSubnets; they return to the pool once the NodeSubnet no longer lists them.</summary>
    public IReadOnlyList<BlockChange> Retired { get; init; } = [];

    /// <summary>When an extra block reported empty will have waited long enough to be released: reconcile again then.</summary>
    public TimeSpan? RecheckAfter { get; init; }
}
