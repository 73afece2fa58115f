using Trellis.Addressing;
using k8s.Models;
using Trellis.Crds;
using Trellis.NodeAgent.Planning;
using Trellis.ControllerRuntime.Clients;

namespace Trellis.NodeAgent.Reconciling;

/// <summary>The status an agent writes on its own NodeSubnet, and whether it differs from what is there.</summary>
public static class StatusReport
{
    /// <param name="inUseByBlock">Addresses in use in each of <paramref name="own"/>'s blocks, in its order (empty when unknown: every block counts 0).</param>
    /// <param name="drainingClosed">The store holds the draining blocks closed (counted after closing): a draining block with no address in use is drained.</param>
    public static NodeSubnetStatus Build(SubnetFacts own, ReconcileOutcome outcome, int peersRouted, IReadOnlyList<int> inUseByBlock,
        NodeSubnetStatus? current, DateTime now, bool drainingClosed = false)
    {
        var blocks = own.Blocks.Select((block, i) => BlockUsage(block, i < inUseByBlock.Count ? inUseByBlock[i] : 0, current, now,
            drainingClosed && i < inUseByBlock.Count)).ToList();
        var previous = current?.Conditions?.FirstOrDefault(c => c.Type == Conditions.Programmed);
        var status = outcome.Programmed ? "True" : "False";
        var condition = new V1Condition
        {
            Type = Conditions.Programmed,
            Status = status,
            Reason = outcome.Reason,
            Message = outcome.Message,
            ObservedGeneration = own.Generation,
            LastTransitionTime = previous is not null && previous.Status == status ? previous.LastTransitionTime : now,
        };
        var conditions = (current?.Conditions ?? []).Where(c => c.Type != Conditions.Programmed).Append(condition).ToList();
        return new NodeSubnetStatus
        {
            ObservedGeneration = own.Generation,
            Conditions = conditions,
            PeersRouted = peersRouted,
            AddressesInUse = blocks.Sum(b => b.AddressesInUse),
            AddressCapacity = Capacity(own.Blocks),
            Blocks = blocks,
            Families = own.Blocks.Zip(blocks).GroupBy(pair => pair.First.Cidr.Family).OrderBy(g => g.Key).Select(g => new FamilyUsageStatus
            {
                Family = IpFamilyName.Of(g.Key),
                Blocks = g.Count(),
                AddressesInUse = g.Sum(pair => pair.Second.AddressesInUse),
                AddressCapacity = Capacity(g.Select(pair => pair.First)),
            }).ToList(),
            // The agent's reclaims add to this (AgentService); a pass only carries it forward.
            AddressesReclaimed = current?.AddressesReclaimed ?? 0,
        };
    }

    public static bool Differs(NodeSubnetStatus desired, NodeSubnetStatus? current)
    {
        if (current is null) return true;
        if (current.ObservedGeneration != desired.ObservedGeneration || current.PeersRouted != desired.PeersRouted ||
            current.AddressesInUse != desired.AddressesInUse || current.AddressCapacity != desired.AddressCapacity ||
            current.AddressesReclaimed != desired.AddressesReclaimed ||
            current.BgpSessions != desired.BgpSessions ||
            ApiJson.Serialize(current.Blocks ?? []) != ApiJson.Serialize(desired.Blocks ?? []) ||
            ApiJson.Serialize(current.Families ?? []) != ApiJson.Serialize(desired.Families ?? []) ||
            ApiJson.Serialize(current.BgpPeers ?? []) != ApiJson.Serialize(desired.BgpPeers ?? []))
            return true;
        var a = desired.Conditions.FirstOrDefault(c => c.Type == Conditions.Programmed);
        var b = current.Conditions?.FirstOrDefault(c => c.Type == Conditions.Programmed);
        return a is null != b is null || a is not null && b is not null &&
            (a.Status != b.Status || a.Reason != b.Reason || a.Message != b.Message || a.ObservedGeneration != b.ObservedGeneration);
    }

    /// <summary>
    /// One block's usage. emptySince is when this agent first found the block empty, carried from the status it wrote
    /// while the block stays empty (so an agent restart does not restart the operator's wait), and absent once in use.
    /// </summary>
    private static BlockUsageStatus BlockUsage(Block block, int inUse, NodeSubnetStatus? current, DateTime now, bool counted)
    {
        var text = block.Cidr.ToString();
        var before = current?.Blocks?.FirstOrDefault(b => b.Cidr == text);
        return new BlockUsageStatus
        {
            Cidr = text,
            AddressesInUse = inUse,
            AddressCapacity = Capacity([block]),
            EmptySince = inUse > 0 ? null : before is { AddressesInUse: 0, EmptySince: { } since } ? since : now,
            Drained = block.Draining && counted && inUse == 0,
        };
    }

    /// <summary>Addresses pods can get: the block minus network address and gateway (and the IPv4 broadcast address).</summary>
    public static long Capacity(IEnumerable<Block> blocks)
    {
        UInt128 total = 0;
        foreach (var block in blocks)
        {
            var reserved = block.Cidr.IsIPv4 ? 3u : 2u;
            var size = block.Cidr.Size;
            total += size > reserved ? size - reserved : 0;
            if (total > long.MaxValue) return long.MaxValue;
        }
        return (long)total;
    }
}
