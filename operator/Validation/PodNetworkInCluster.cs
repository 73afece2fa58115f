using Trellis.Addressing;
using Trellis.Crds;

namespace Trellis.Operator.Validation;

/// <summary>A PodNetwork seen with the rest of the cluster: the other networks, and the blocks its NodeSubnets hold.</summary>
public sealed record PodNetworkInCluster(PodNetwork Network, IReadOnlyList<PodNetwork> Others, IReadOnlyList<Cidr> BlocksInUse);

/// <summary>The verdict written to the Valid condition.</summary>
public sealed record ValidationVerdict(bool Valid, string Reason, string Message)
{
    public static readonly ValidationVerdict Accepted = new(true, ValidationReasons.Valid, "spec is valid");
}
