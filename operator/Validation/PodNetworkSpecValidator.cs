using Trellis.Addressing;
using FluentValidation;
using Trellis.Crds;
using Trellis.Operator.Selection;

namespace Trellis.Operator.Validation;

/// <summary>What one PodNetwork's spec must satisfy on its own (the CRD's CEL rules say much of it too; this is the operator's own guard).</summary>
public sealed class PodNetworkSpecValidator : AbstractValidator<PodNetwork>
{
    /// <summary>A block must hold a gateway and at least one pod.</summary>
    public const int LongestIPv4Block = 30;
    public const int LongestIPv6Block = 126;
    public const int MaxVni = (1 << 24) - 1;

    public PodNetworkSpecValidator()
    {
        RuleFor(n => n.Spec.Cidrs).NotEmpty()
            .WithMessage(n => $"PodNetwork {n.Metadata.Name} has no cidrs");

        RuleForEach(n => n.Spec.Cidrs).Custom((text, context) =>
        {
            if (!Cidr.TryParse(text, out _, out var error))
                context.AddFailure("spec.cidrs", $"PodNetwork {context.InstanceToValidate.Metadata.Name}: {error}");
        });

        RuleFor(n => n).Custom((network, context) =>
        {
            var name = network.Metadata.Name;
            var ranges = ParsedRanges(network);
            for (int i = 0; i < ranges.Count; i++)
                for (int j = i + 1; j < ranges.Count; j++)
                    if (ranges[i].Overlaps(ranges[j]))
                        context.AddFailure("spec.cidrs", $"PodNetwork {name}: ranges {ranges[i]} and {ranges[j]} overlap");

            foreach (var range in ranges)
            {
                int size = range.IsIPv4 ? network.Spec.BlockSize.IPv4 : network.Spec.BlockSize.IPv6;
                int longest = range.IsIPv4 ? LongestIPv4Block : LongestIPv6Block;
                string field = range.IsIPv4 ? "spec.blockSize.ipv4" : "spec.blockSize.ipv6";
                if (size < range.PrefixLength)
                    context.AddFailure(field, $"PodNetwork {name}: block size /{size} is larger than its range {range}");
                else if (size > longest)
                    context.AddFailure(field, $"PodNetwork {name}: block size /{size} leaves no room for pods (longest is /{longest})");
            }
        });

        RuleFor(n => n.Spec.Routing.Mode).Must(mode => RoutingModes.All.Contains(mode))
            .WithMessage(n => $"PodNetwork {n.Metadata.Name}: routing mode \"{n.Spec.Routing.Mode}\" is not one of {string.Join(", ", RoutingModes.All)}");
        RuleFor(n => n.Spec.Routing.Vxlan.Vni).InclusiveBetween(1, MaxVni)
            .WithMessage(n => $"PodNetwork {n.Metadata.Name}: VXLAN VNI {n.Spec.Routing.Vxlan.Vni} is outside 1..{MaxVni}");
        RuleFor(n => n.Spec.Routing.Vxlan.Port).InclusiveBetween(1, 65535)
            .WithMessage(n => $"PodNetwork {n.Metadata.Name}: VXLAN port {n.Spec.Routing.Vxlan.Port} is outside 1..65535");
        RuleFor(n => n).Custom((network, context) =>
        {
            foreach (var (field, message) in BgpSpecValidation.Problems(network)) context.AddFailure(field, message);
        });
        RuleFor(n => n.Spec.Mtu).Must(mtu => mtu == 0 || mtu is >= 576 and <= 65535)
            .WithMessage(n => $"PodNetwork {n.Metadata.Name}: MTU {n.Spec.Mtu} must be 0 (derive) or within 576..65535");

        RuleFor(n => n.Spec.NodeSelector).Custom((selector, context) =>
        {
            foreach (var problem in LabelSelector.Problems(selector))
                context.AddFailure("spec.nodeSelector", $"PodNetwork {context.InstanceToValidate.Metadata.Name}: nodeSelector {problem}");
        });
    }

    public static IReadOnlyList<Cidr> ParsedRanges(PodNetwork network)
    {
        var ranges = new List<Cidr>();
        foreach (var text in network.Spec.Cidrs)
            if (Cidr.TryParse(text, out var range)) ranges.Add(range);
        return ranges;
    }
}
