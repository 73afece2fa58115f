using System.Diagnostics.CodeAnalysis;
using Trellis.Crds;

namespace Trellis.NodeAgent.Planning;

/// <summary>
/// The NodeSubnets split into this node's own and its peers'. A bad own NodeSubnet stops the
/// whole plan (nothing is changed on a guess); a bad peer is skipped and reported.
/// </summary>
public sealed record OwnAndPeerSubnets(string NodeName, IReadOnlyList<SubnetFacts> Own, IReadOnlyList<SubnetFacts> Peers, IReadOnlyList<string> Problems)
{
    /// <summary>Parses <paramref name="subnets"/> as the agent's cache does (<see cref="CachedSubnet.Of"/>), then splits them.</summary>
    public static bool TryBuild(string nodeName, IEnumerable<NodeSubnet> subnets, [NotNullWhen(true)] out OwnAndPeerSubnets? view, [NotNullWhen(false)] out string? error) =>
        TryBuild(nodeName, subnets.Select(subnet => CachedSubnet.Of(subnet, nodeName)), out view, out error);

    public static bool TryBuild(string nodeName, IEnumerable<CachedSubnet> subnets, [NotNullWhen(true)] out OwnAndPeerSubnets? view, [NotNullWhen(false)] out string? error)
    {
        var own = new List<SubnetFacts>();
        var peers = new List<SubnetFacts>();
        var problems = new List<string>();
        foreach (var subnet in subnets.OrderBy(s => s.Name, StringComparer.Ordinal))
        {
            if (subnet.Deleting) continue;
            if (subnet.Facts is not { } facts)
            {
                if (subnet.Own)
                {
                    view = null;
                    error = subnet.Fault!;
                    return false;
                }
                problems.Add(subnet.Fault!);
                continue;
            }
            (subnet.Own ? own : peers).Add(facts);
        }
        view = new OwnAndPeerSubnets(nodeName, own, peers, problems);
        error = null;
        return true;
    }
}
