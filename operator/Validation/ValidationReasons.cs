namespace Trellis.Operator.Validation;

/// <summary>Reasons on a PodNetwork's Valid condition; also the FluentValidation error codes.</summary>
public static class ValidationReasons
{
    public const string Valid = "Valid";
    public const string InvalidSpec = "InvalidSpec";
    public const string Overlap = "OverlapsPodNetwork";
    public const string RangeInUse = "RangeRemovedInUse";
    public const string OverlapsNodeAddresses = "OverlapsNodeAddresses";
}
