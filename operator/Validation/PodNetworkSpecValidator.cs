using FluentValidation;
using Trellis.Addressing;
using Trellis.Crds;
using Trellis.Operator.Facts;
using Trellis.Operator.Planning;

namespace Trellis.Operator.Validation;

/// <summary>What one PodNetwork's spec must satisfy on its own (the CRD's CEL rules say much of it too; this is the operator's own guard).</summary>
public sealed class PodNetworkSpecValidator : AbstractValidator<PodNetworkFacts>
{
    /// <summary>A block must hold a gateway and at least one pod.</summary>
    public const int LongestIPv4Block = 30;
    public const int LongestIPv6Block = 126;

    /// <summary>NodeSubnets are named &lt;network&gt;.&lt;node&gt;: a network name must be a DNS label (no dot) for that name to say which is which.</summary>
    public const int LongestName = 63;

    public PodNetworkSpecValidator()
    {
        RuleFor(n => n.Name).Must(name => name.Length <= LongestName && !name.Contains('.'))
            .WithMessage(n => $"PodNetwork {n.Name}: a PodNetwork name must be a DNS label (no dots, at most {LongestName} characters) because its NodeSubnets are named <network>.<node>");

        RuleFor(n => n.Spec.Cidrs).NotEmpty()
            .WithMessage(n => $"PodNetwork {n.Name} has no cidrs");

        RuleForEach(n => n.RangeErrors).Custom((error, context) =>
            context.AddFailure("spec.cidrs", $"PodNetwork {context.InstanceToValidate.Name}: {error}"));

        RuleFor(n => n).Custom((network, context) =>
        {
            var ranges = network.Ranges;
            for (int i = 0; i < ranges.Count; i++)
                for (int j = i + 1; j < ranges.Count; j++)
                    if (ranges[i].Overlaps(ranges[j]))
                        context.AddFailure("spec.cidrs", $"PodNetwork {network.Name}: ranges {ranges[i]} and {ranges[j]} overlap");

            foreach (var range in ranges)
            {
                int size = network.BlockSizeFor(range.Family);
                int longest = range.IsIPv4 ? LongestIPv4Block : LongestIPv6Block;
                string field = range.IsIPv4 ? "spec.blockSize.ipv4" : "spec.blockSize.ipv6";
                if (size < range.PrefixLength)
                    context.AddFailure(field, $"PodNetwork {network.Name}: block size /{size} is larger than its range {range}");
                else if (size > longest)
                    context.AddFailure(field, $"PodNetwork {network.Name}: block size /{size} leaves no room for pods (longest is /{longest})");
            }
        });

        RuleFor(n => n.Spec.Routing.Mode).Must(mode => RoutingModes.All.Contains(mode))
            .WithMessage(n => $"PodNetwork {n.Name}: routing mode \"{n.Spec.Routing.Mode}\" is not one of {string.Join(", ", RoutingModes.All)}");
        RuleFor(n => n.Spec.Routing.Vxlan.Vni).InclusiveBetween(VxlanVni.Minimum, VxlanVni.Maximum)
            .WithMessage(n => $"PodNetwork {n.Name}: VXLAN VNI {n.Spec.Routing.Vxlan.Vni} is outside {VxlanVni.Minimum}..{VxlanVni.Maximum}");
        RuleFor(n => n.Spec.Routing.Vxlan.Port).InclusiveBetween(1, 65535)
            .WithMessage(n => $"PodNetwork {n.Name}: VXLAN port {n.Spec.Routing.Vxlan.Port} is outside 1..65535");
        RuleFor(n => n).Custom((network, context) =>
        {
            foreach (var (field, message) in BgpSpecValidation.Problems(network.Network)) context.AddFailure(field, message);
        });
        RuleFor(n => n).Custom((network, context) =>
        {
            if (network.Spec.Mtu != 0 && MtuBounds.Problem(network.Spec.Mtu, network.Ranges.Any(range => range.IsIPv6)) is { } problem)
                context.AddFailure("spec.mtu", $"PodNetwork {network.Name}: {problem} (0 derives it from the underlay)");
        });

        RuleFor(n => n.Spec.MaxBlocksPerNode).InclusiveBetween(1, PodNetworkSpec.MostBlocksPerNode)
            .WithMessage(n => $"PodNetwork {n.Name}: maxBlocksPerNode {n.Spec.MaxBlocksPerNode} is outside 1..{PodNetworkSpec.MostBlocksPerNode} (a node's first block counts as one)");
        RuleFor(n => n.Spec.BlockGrowth.MinFreePercent).InclusiveBetween(0, 100)
            .WithMessage(n => $"PodNetwork {n.Name}: blockGrowth.minFreePercent {n.Spec.BlockGrowth.MinFreePercent} is not a percentage within 0..100");
        RuleFor(n => n.Spec.BlockGrowth.MinFreeAddresses).InclusiveBetween(0, BlockGrowth.MostMinFreeAddresses)
            .WithMessage(n => $"PodNetwork {n.Name}: blockGrowth.minFreeAddresses {n.Spec.BlockGrowth.MinFreeAddresses} is outside 0..{BlockGrowth.MostMinFreeAddresses}");
        RuleFor(n => n.Spec.BlockGrowth.ReleaseEmptyAfterSeconds).InclusiveBetween(0, BlockGrowth.LongestReleaseEmptyAfterSeconds)
            .WithMessage(n => $"PodNetwork {n.Name}: blockGrowth.releaseEmptyAfterSeconds {n.Spec.BlockGrowth.ReleaseEmptyAfterSeconds} is outside 0..{BlockGrowth.LongestReleaseEmptyAfterSeconds} (30 days)");

        RuleFor(n => n.Spec.NodeSelector).Custom((selector, context) =>
        {
            foreach (var problem in LabelSelectorMatch.Problems(selector))
                context.AddFailure("spec.nodeSelector", $"PodNetwork {context.InstanceToValidate.Name}: nodeSelector {problem}");
        });
    }
}
