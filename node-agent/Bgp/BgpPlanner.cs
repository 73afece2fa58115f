using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Trellis.Addressing;
using Trellis.Bgp.Speaker;
using Trellis.NodeAgent.Planning;

namespace Trellis.NodeAgent.Bgp;

/// <summary>What the node's speaker should do, and which of the node's NodeSubnets each session reports to.</summary>
public sealed record BgpPlan(BgpConfiguration Configuration, IReadOnlyDictionary<string, IReadOnlyList<IPAddress>> PeersBySubnet, IReadOnlyList<string> Problems)
{
    public bool HasPeers => Configuration.Peers.Count > 0;
}

/// <summary>
/// Turns the node's own NodeSubnets into the speaker's configuration. Pure. The node announces
/// exactly its blocks (every family, extra blocks too) of each network that has routing.bgp, with
/// its own underlay address of the block's family as next hop.
/// </summary>
public static class BgpPlanner
{
    public static BgpPlan Plan(OwnAndPeerSubnets view)
    {
        var problems = new List<string>();
        var withBgp = view.Own.Where(s => s.Routing.Bgp is not null).ToList();
        var addresses = view.Own.SelectMany(s => s.NodeAddresses).Distinct().ToList();
        var ipv4 = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork);
        var ipv6 = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetworkV6 && !a.IsIPv6LinkLocal);

        uint asn = withBgp.FirstOrDefault()?.Routing.Bgp!.Asn ?? BgpConfiguration.DefaultAsn;
        var peers = new Dictionary<IPAddress, (BgpPeer Peer, string Subnet)>();
        var peersBySubnet = new Dictionary<string, IReadOnlyList<IPAddress>>(StringComparer.Ordinal);
        var prefixes = new List<Cidr>();
        foreach (var subnet in withBgp)
        {
            var bgp = subnet.Routing.Bgp!;
            if (bgp.Asn != asn)
            {
                problems.Add($"NodeSubnet {subnet.Name}: BGP AS {bgp.Asn} differs from AS {asn} of NodeSubnet {withBgp[0].Name}; " +
                             "a node speaks BGP as one AS, so its blocks are not announced");
                continue;
            }
            var own = new List<IPAddress>();
            foreach (var peer in bgp.Peers)
            {
                if (peers.TryGetValue(peer.Address, out var existing) && existing.Peer != peer)
                {
                    problems.Add($"NodeSubnet {subnet.Name}: BGP peer {peer.Address} is configured differently in NodeSubnet {existing.Subnet}; that one is used");
                    own.Add(peer.Address);
                    continue;
                }
                peers.TryAdd(peer.Address, (peer, subnet.Name));
                own.Add(peer.Address);
            }
            peersBySubnet[subnet.Name] = own;
            foreach (var block in subnet.Blocks)
            {
                if ((block.Cidr.IsIPv4 ? ipv4 : ipv6) is null)
                    problems.Add($"NodeSubnet {subnet.Name}: block {block.Cidr} is not announced: the node has no {IpFamilyName.Of(block.Cidr.Family)} address to be its next hop");
                prefixes.Add(block.Cidr);
            }
        }
        var configuration = new BgpConfiguration(asn, ipv4 ?? RouterIdFor(view.NodeName),
            peers.Values.Select(p => p.Peer).OrderBy(p => p.Address.AddressFamily).ThenBy(p => p.Address.ToString()).ToList(),
            prefixes.Distinct().Order().ToList(), ipv4, ipv6);
        return new BgpPlan(configuration, peersBySubnet, problems);
    }

    /// <summary>A node without an IPv4 address still needs a non-zero 32-bit BGP identifier (RFC 6286): one derived from its name.</summary>
    public static IPAddress RouterIdFor(string nodeName)
    {
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(nodeName));
        var id = BinaryPrimitives.ReadUInt32BigEndian(hash) | 1;
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, id);
        return new IPAddress(bytes);
    }
}
