using FluentValidation.Results;

namespace Trellis.Operator.Validation;

/// <summary>Runs the spec and cluster validators and folds their failures into one Valid condition.</summary>
public sealed class PodNetworkValidation
{
    private readonly PodNetworkSpecValidator _spec = new();
    private readonly PodNetworkClusterValidator _cluster = new();

    public ValidationVerdict Evaluate(PodNetworkInCluster subject)
    {
        var specFailures = _spec.Validate(subject.Network).Errors;
        if (specFailures.Count > 0) return Refuse(ValidationReasons.InvalidSpec, specFailures);
        // Overlap and in-use checks read the ranges, so they are only meaningful once the spec itself is sound.
        var clusterFailures = _cluster.Validate(subject).Errors;
        return clusterFailures.Count > 0 ? Refuse(clusterFailures[0].ErrorCode, clusterFailures) : ValidationVerdict.Accepted;
    }

    private static ValidationVerdict Refuse(string reason, IEnumerable<ValidationFailure> failures) =>
        new(false, reason, string.Join("; ", failures.Select(f => f.ErrorMessage).Distinct()));
}
