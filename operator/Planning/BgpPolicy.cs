using Trellis.Crds;
using Trellis.Operator.Facts;

namespace Trellis.Operator.Planning;

/// <summary>A PodNetwork's BGP policy as one node's NodeSubnet carries it.</summary>
public static class BgpPolicy
{
    /// <summary>
    /// The network's BGP settings with only the peers whose nodeSelector selects <paramref name="node"/>
    /// (racks peer with their own router), selectors dropped: the agent needs no labels.
    /// </summary>
    public static BgpSpec? ForNode(BgpSpec? bgp, NodeFacts node)
    {
        if (bgp is null) return null;
        return new BgpSpec
        {
            Asn = bgp.Asn,
            HoldTime = bgp.HoldTime,
            GracefulRestart = new GracefulRestartSpec { Enabled = bgp.GracefulRestart.Enabled, RestartTime = bgp.GracefulRestart.RestartTime },
            Peers = bgp.Peers
                .Where(peer => LabelSelectorMatch.Matches(peer.NodeSelector, node.Labels))
                .Select(peer => new BgpPeerSpec { Address = peer.Address, Asn = peer.Asn, Port = peer.Port, Password = peer.Password })
                .ToList(),
        };
    }
}
