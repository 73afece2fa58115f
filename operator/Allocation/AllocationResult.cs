using Trellis.Addressing;
using System.Net.Sockets;

namespace Trellis.Operator.Allocation;

public enum AllocationOutcome
{
    /// <summary>The node already held this block; nothing changed.</summary>
    Existing,

    /// <summary>A block was taken from the pool for the node.</summary>
    Allocated,

    /// <summary>Every block of the family is in use (or overlaps a block in use).</summary>
    Exhausted,

    /// <summary>The network may not hand out blocks: unknown, invalid, or without a range of the family.</summary>
    Refused,
}

/// <summary>The answer to one allocation request; failures are values, because an exhausted pool is a normal state.</summary>
public sealed record AllocationResult(AllocationOutcome Outcome, Cidr? Block, string Network, AddressFamily Family, string? Message)
{
    public bool Succeeded => Outcome is AllocationOutcome.Existing or AllocationOutcome.Allocated;

    internal static AllocationResult Existing(string network, Cidr block) =>
        new(AllocationOutcome.Existing, block, network, block.Family, null);

    internal static AllocationResult Allocated(string network, Cidr block) =>
        new(AllocationOutcome.Allocated, block, network, block.Family, null);

    internal static AllocationResult Failed(AllocationOutcome outcome, string network, AddressFamily family, string message) =>
        new(outcome, null, network, family, message);
}

public enum RestoreOutcome
{
    /// <summary>The block is recorded as the node's.</summary>
    Restored,

    /// <summary>The node already held exactly this block.</summary>
    AlreadyHeld,

    /// <summary>The block overlaps a block already recorded for someone else; it is not recorded.</summary>
    Conflict,
}

public sealed record RestoreResult(RestoreOutcome Outcome, string? Message)
{
    public bool Succeeded => Outcome != RestoreOutcome.Conflict;
}
