namespace Trellis.NetworkPolicy.Ruleset;

/// <summary>A named counter; a policy's drop counter counts what it isolates and nothing allowed.</summary>
public sealed record NftCounter(string Name, string Comment);

/// <summary>A chain; <see cref="Hook"/> is set for the base chains that netfilter calls.</summary>
public sealed record NftChain(string Name, string? Comment, string? Hook, IReadOnlyList<NftRule> Rules);

/// <summary>One nftables table of the inet family, described as data so it can be diffed and rendered.</summary>
public sealed record PolicyTable(string Name, IReadOnlyList<NftCounter> Counters, IReadOnlyList<NftSet> Sets, IReadOnlyList<NftChain> Chains)
{
    public const string Family = "inet";

    public int RuleCount => Chains.Sum(c => c.Rules.Count);

    public int ElementCount => Sets.Sum(s => s.Elements.Count);

    public NftSet? FindSet(string name) => Sets.FirstOrDefault(s => s.Name == name);

    public NftChain? FindChain(string name) => Chains.FirstOrDefault(c => c.Name == name);
}
