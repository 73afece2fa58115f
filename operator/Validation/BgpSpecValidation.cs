using System.Net;
using System.Text;
using Trellis.Crds;
using Trellis.Operator.Planning;

namespace Trellis.Operator.Validation;

/// <summary>What <c>routing.bgp</c> must satisfy (the CRD's CEL rules say much of it too; this is the operator's own guard).</summary>
public static class BgpSpecValidation
{
    public const long MaxAsn = uint.MaxValue;
    public const int MaxPasswordOctets = 80;
    public const int MaxRestartTime = 4095;

    /// <summary>Each problem with the field it concerns, in words naming the network.</summary>
    public static IEnumerable<(string Field, string Message)> Problems(PodNetwork network)
    {
        var name = network.Metadata.Name;
        var routing = network.Spec.Routing;
        var bgp = routing.Bgp;
        if (bgp is null)
        {
            if (routing.Mode == RoutingModes.Bgp)
                yield return ("spec.routing.bgp", $"PodNetwork {name}: routing mode BGP needs routing.bgp with at least one peer");
            yield break;
        }
        if (bgp.Asn is < 1 or > MaxAsn)
            yield return ("spec.routing.bgp.asn", $"PodNetwork {name}: AS number {bgp.Asn} is outside 1..{MaxAsn}");
        if (bgp.Peers.Count == 0)
            yield return ("spec.routing.bgp.peers", $"PodNetwork {name}: routing.bgp has no peers");
        if (bgp.HoldTime is not 0 and (< 3 or > 65535))
            yield return ("spec.routing.bgp.holdTime", $"PodNetwork {name}: BGP hold time {bgp.HoldTime} s must be 0 or within 3..65535");
        if (bgp.GracefulRestart.RestartTime is < 0 or > MaxRestartTime)
            yield return ("spec.routing.bgp.gracefulRestart.restartTime",
                $"PodNetwork {name}: graceful restart time {bgp.GracefulRestart.RestartTime} s is outside 0..{MaxRestartTime}");
        var seen = new HashSet<IPAddress>();
        for (int i = 0; i < bgp.Peers.Count; i++)
        {
            var peer = bgp.Peers[i];
            var field = $"spec.routing.bgp.peers[{i}]";
            if (!IPAddress.TryParse(peer.Address, out var address) || peer.Address.Contains('/') || address.ToString() != peer.Address)
                yield return ($"{field}.address", $"PodNetwork {name}: BGP peer address \"{peer.Address}\" is not an IP address in canonical form");
            else if (!seen.Add(address))
                yield return ($"{field}.address", $"PodNetwork {name}: BGP peer {address} is listed twice");
            if (peer.Asn is < 1 or > MaxAsn)
                yield return ($"{field}.asn", $"PodNetwork {name}: BGP peer {peer.Address}: AS number {peer.Asn} is outside 1..{MaxAsn}");
            if (peer.Port is < 1 or > 65535)
                yield return ($"{field}.port", $"PodNetwork {name}: BGP peer {peer.Address}: port {peer.Port} is outside 1..65535");
            if (peer.Password is { } password && (password.Length == 0 || Encoding.UTF8.GetByteCount(password) > MaxPasswordOctets))
                yield return ($"{field}.password", $"PodNetwork {name}: BGP peer {peer.Address}: a TCP MD5 password must be 1..{MaxPasswordOctets} octets");
            foreach (var problem in LabelSelectorMatch.Problems(peer.NodeSelector))
                yield return ($"{field}.nodeSelector", $"PodNetwork {name}: BGP peer {peer.Address}: nodeSelector {problem}");
        }
    }
}
