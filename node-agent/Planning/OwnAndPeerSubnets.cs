using System.Diagnostics.CodeAnalysis;
using Trellis.Crds;

namespace Trellis.NodeAgent.Planning;

/// <summary>
/// The NodeSubnets split into this node's own and its peers'. A bad own NodeSubnet stops the
/// whole plan (nothing is changed on a guess); a bad peer is skipped and reported.
/// </summary>
public sealed record OwnAndPeerSubnets(string NodeName, IReadOnlyList<SubnetFacts> Own, IReadOnlyList<SubnetFacts> Peers, IReadOnlyList<string> Problems)
{
    public static bool TryBuild(string nodeName, IEnumerable<NodeSubnet> subnets, [NotNullWhen(true)] out OwnAndPeerSubnets? view, [NotNullWhen(false)] out string? error)
    {
        var own = new List<SubnetFacts>();
        var peers = new List<SubnetFacts>();
        var problems = new List<string>();
        foreach (var subnet in subnets.OrderBy(s => s.Metadata?.Name, StringComparer.Ordinal))
        {
            if (subnet.Metadata?.DeletionTimestamp is not null) continue;
            bool mine = subnet.Spec?.NodeName == nodeName;
            if (!SubnetFacts.TryParse(subnet, out var facts, out var parseError))
            {
                if (mine)
                {
                    view = null;
                    error = parseError;
                    return false;
                }
                problems.Add(parseError);
                continue;
            }
            (mine ? own : peers).Add(facts);
        }
        view = new OwnAndPeerSubnets(nodeName, own, peers, problems);
        error = null;
        return true;
    }
}
