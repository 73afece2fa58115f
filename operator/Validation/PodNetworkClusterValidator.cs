using FluentValidation;
using FluentValidation.Results;
using Trellis.Operator.Facts;

namespace Trellis.Operator.Validation;

/// <summary>
/// What only the whole cluster can tell: overlap with another PodNetwork (the newer of the two,
/// by creationTimestamp then name, is the invalid one, so the network that was there first keeps
/// working), ranges removed while a node still holds a block from them, and ranges that hold a
/// Node's own address (blocks from them would put a node's address on a pod bridge).
/// </summary>
public sealed class PodNetworkClusterValidator : AbstractValidator<PodNetworkInCluster>
{
    /// <summary>Node addresses named in one message; the rest are counted.</summary>
    private const int NamedAddresses = 3;

    public PodNetworkClusterValidator()
    {
        RuleFor(c => c).Custom((cluster, context) =>
        {
            var network = cluster.Network;
            foreach (var other in cluster.Others)
            {
                if (other.Name == network.Name || !IsOlder(other, network)) continue;
                foreach (var mine in network.Ranges)
                    foreach (var theirs in other.Ranges)
                        if (mine.Overlaps(theirs))
                            context.AddFailure(new ValidationFailure("spec.cidrs",
                                $"PodNetwork {network.Name}: range {mine} overlaps range {theirs} of the older PodNetwork {other.Name}")
                            { ErrorCode = ValidationReasons.Overlap });
            }
        });

        RuleFor(c => c).Custom((cluster, context) =>
        {
            var ranges = cluster.Network.Ranges;
            var orphans = cluster.BlocksInUse.Where(block => !ranges.Any(range => range.Contains(block))).Distinct().Order().ToList();
            if (orphans.Count > 0)
                context.AddFailure(new ValidationFailure("spec.cidrs",
                    $"PodNetwork {cluster.Network.Name}: blocks {string.Join(", ", orphans)} are still held by nodes but no longer inside any range; put the range back")
                { ErrorCode = ValidationReasons.RangeInUse });
        });

        // Once a generation of the spec was accepted, a node that later gets an address inside it is refused
        // service on its own; the spec stays valid for every other node.
        RuleFor(c => c).Custom((cluster, context) =>
        {
            foreach (var range in cluster.Network.Ranges)
            {
                var held = cluster.Nodes.SelectMany(node => node.Addresses.Where(range.Contains).Select(address => $"{address} of node {node.Name}")).ToList();
                if (held.Count == 0) continue;
                var named = string.Join(", ", held.Take(NamedAddresses)) + (held.Count > NamedAddresses ? $" and {held.Count - NamedAddresses} more" : "");
                context.AddFailure(new ValidationFailure("spec.cidrs",
                    $"PodNetwork {cluster.Network.Name}: range {range} holds the address {named}; blocks from it would take nodes off their own network")
                { ErrorCode = ValidationReasons.OverlapsNodeAddresses });
            }
        }).When(c => !c.Network.AcceptedThisGeneration);
    }

    /// <summary>Older by creationTimestamp, then by name, so that exactly one of two overlapping networks loses.</summary>
    public static bool IsOlder(PodNetworkFacts a, PodNetworkFacts b)
    {
        var ta = a.Network.Metadata.CreationTimestamp ?? DateTime.MaxValue;
        var tb = b.Network.Metadata.CreationTimestamp ?? DateTime.MaxValue;
        if (ta != tb) return ta < tb;
        return string.CompareOrdinal(a.Name, b.Name) < 0;
    }
}
