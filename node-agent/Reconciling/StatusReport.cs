using Trellis.Addressing;
using k8s.Models;
using Trellis.Crds;
using Trellis.NodeAgent.Planning;

namespace Trellis.NodeAgent.Reconciling;

/// <summary>The status an agent writes on its own NodeSubnet, and whether it differs from what is there.</summary>
public static class StatusReport
{
    public static NodeSubnetStatus Build(SubnetFacts own, ReconcileOutcome outcome, int peersRouted, int addressesInUse,
        NodeSubnetStatus? current, DateTime now)
    {
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
            AddressesInUse = addressesInUse,
            AddressCapacity = Capacity(own.Blocks),
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
            k8s.KubernetesJson.Serialize(current.BgpPeers ?? []) != k8s.KubernetesJson.Serialize(desired.BgpPeers ?? []))
            return true;
        var a = desired.Conditions.FirstOrDefault(c => c.Type == Conditions.Programmed);
        var b = current.Conditions?.FirstOrDefault(c => c.Type == Conditions.Programmed);
        return a is null != b is null || a is not null && b is not null &&
            (a.Status != b.Status || a.Reason != b.Reason || a.Message != b.Message || a.ObservedGeneration != b.ObservedGeneration);
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
