using Trellis.Addressing;
using Trellis.Operator.Facts;

namespace Trellis.Operator.Validation;

/// <summary>
/// A PodNetwork seen with the rest of the cluster: the other networks, the blocks its NodeSubnets hold,
/// and every Node (whose addresses no range may hold).
/// </summary>
public sealed record PodNetworkInCluster(
    PodNetworkFacts Network,
    IReadOnlyList<PodNetworkFacts> Others,
    IReadOnlyList<Cidr> BlocksInUse,
    IReadOnlyList<NodeFacts> Nodes);

/// <summary>The verdict written to the Valid condition.</summary>
public sealed record ValidationVerdict(bool Valid, string Reason, string Message)
{
    public static readonly ValidationVerdict Accepted = new(true, ValidationReasons.Valid, "spec is valid");
}
