using System.Net.Sockets;
using Trellis.Addressing;
using Trellis.Crds;

namespace Trellis.Operator.Facts;

/// <summary>
/// A PodNetwork read once: its ranges parsed (in spec order, appended ranges last), the texts that do not
/// parse kept with the parser's words, and the object itself for what is read as it is (the scalars the
/// validators check, the status, the owner reference and Events).
/// </summary>
public sealed record PodNetworkFacts(PodNetwork Network, IReadOnlyList<Cidr> Ranges, IReadOnlyList<string> RangeErrors)
{
    public string Name => Network.Metadata.Name;

    public PodNetworkSpec Spec => Network.Spec;

    /// <summary>Deletion has begun (for example a foreground deletion waiting for its NodeSubnets): the network is no longer served.</summary>
    public bool Terminating => Network.Metadata.DeletionTimestamp is not null;

    /// <summary>Families the network hands out blocks of, in the order its ranges name them.</summary>
    public IReadOnlyList<AddressFamily> Families { get; } = Ranges.Select(r => r.Family).Distinct().ToList();

    public int BlockSizeFor(AddressFamily family) => family == AddressFamily.InterNetwork ? Spec.BlockSize.IPv4 : Spec.BlockSize.IPv6;

    /// <summary>
    /// The operator already found this generation of the spec valid (its status says so). Node addresses that
    /// fall inside its ranges after that are a matter of the nodes, not of the spec: those nodes are not served.
    /// </summary>
    public bool AcceptedThisGeneration =>
        Network.Status?.Conditions.FirstOrDefault(c => c.Type == Conditions.Valid) is { Status: "True" } valid &&
        valid.ObservedGeneration is not null && valid.ObservedGeneration == Network.Metadata.Generation;

    public static PodNetworkFacts Parse(PodNetwork network)
    {
        var ranges = new List<Cidr>();
        var errors = new List<string>();
        foreach (var text in network.Spec.Cidrs ?? [])
        {
            if (Cidr.TryParse(text, out var range, out var error)) ranges.Add(range);
            else errors.Add(error);
        }
        return new PodNetworkFacts(network, ranges, errors);
    }
}
