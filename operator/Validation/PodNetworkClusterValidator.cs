using FluentValidation;
using Trellis.Crds;

namespace Trellis.Operator.Validation;

/// <summary>
/// What only the whole cluster can tell: overlap with another PodNetwork (the newer of the two,
/// by creationTimestamp then name, is the invalid one, so the network that was there first keeps
/// working), and ranges removed while a node still holds a block from them.
/// </summary>
public sealed class PodNetworkClusterValidator : AbstractValidator<PodNetworkInCluster>
{
    public PodNetworkClusterValidator()
    {
        RuleFor(c => c).Custom((cluster, context) =>
        {
            var network = cluster.Network;
            var ranges = PodNetworkSpecValidator.ParsedRanges(network);
            foreach (var other in cluster.Others)
            {
                if (other.Metadata.Name == network.Metadata.Name || !IsOlder(other, network)) continue;
                foreach (var mine in ranges)
                    foreach (var theirs in PodNetworkSpecValidator.ParsedRanges(other))
                        if (mine.Overlaps(theirs))
                            context.AddFailure(new FluentValidation.Results.ValidationFailure("spec.cidrs",
                                $"PodNetwork {network.Metadata.Name}: range {mine} overlaps range {theirs} of the older PodNetwork {other.Metadata.Name}")
                            { ErrorCode = ValidationReasons.Overlap });
            }
        });

        RuleFor(c => c).Custom((cluster, context) =>
        {
            var ranges = PodNetworkSpecValidator.ParsedRanges(cluster.Network);
            var orphans = cluster.BlocksInUse.Where(block => !ranges.Any(range => range.Contains(block))).Distinct().OrderBy(b => b).ToList();
            if (orphans.Count > 0)
                context.AddFailure(new FluentValidation.Results.ValidationFailure("spec.cidrs",
                    $"PodNetwork {cluster.Network.Metadata.Name}: blocks {string.Join(", ", orphans)} are still held by nodes but no longer inside any range; put the range back")
                { ErrorCode = ValidationReasons.RangeInUse });
        });
    }

    /// <summary>Older by creationTimestamp, then by name, so that exactly one of two overlapping networks loses.</summary>
    public static bool IsOlder(PodNetwork a, PodNetwork b)
    {
        var ta = a.Metadata.CreationTimestamp ?? DateTime.MaxValue;
        var tb = b.Metadata.CreationTimestamp ?? DateTime.MaxValue;
        if (ta != tb) return ta < tb;
        return string.CompareOrdinal(a.Metadata.Name, b.Metadata.Name) < 0;
    }
}
