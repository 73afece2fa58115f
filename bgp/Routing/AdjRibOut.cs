using System.Net;
using Trellis.Addressing;
using Trellis.Bgp.Messages;
using Trellis.Bgp.Session;

namespace Trellis.Bgp.Routing;

/// <summary>
/// What one session has announced (RFC 4271 §3.2 Adj-RIB-Out), and the UPDATEs that bring the
/// peer from that to what is wanted now: withdrawals first, then announcements grouped by next
/// hop and packed up to the 4096-octet limit. Pure: the caller sends what it returns.
/// </summary>
public sealed class AdjRibOut(NegotiatedSession session, uint localAsn)
{
    private readonly Dictionary<Cidr, IPAddress> _sent = [];

    public int Count => _sent.Count;

    /// <summary>The UPDATEs that make the peer hold exactly <paramref name="wanted"/> (the session's families only).</summary>
    /// <param name="endOfRib">Follow with an End-of-RIB per family: the session's first table (RFC 4724).</param>
    public List<UpdateMessage> Sync(IReadOnlyDictionary<Cidr, IPAddress> wanted, bool endOfRib)
    {
        var carried = wanted.Where(r => session.Families.Contains(AfiSafi.UnicastFor(r.Key.Family))
                                        && r.Value.AddressFamily == r.Key.Family)
            .ToDictionary(r => r.Key, r => r.Value);
        var updates = new List<UpdateMessage>();
        var withdraw = _sent.Keys.Where(p => !carried.ContainsKey(p)).Order().ToList();
        foreach (var group in withdraw.GroupBy(p => AfiSafi.UnicastFor(p.Family)))
            updates.AddRange(Withdrawals(group.Key, group.ToList()));
        foreach (var prefix in withdraw) _sent.Remove(prefix);

        var announce = carried.Where(r => !_sent.TryGetValue(r.Key, out var hop) || !hop.Equals(r.Value)).ToList();
        updates.AddRange(Announcements(announce));
        foreach (var (prefix, hop) in announce) _sent[prefix] = hop;

        if (endOfRib) updates.AddRange(session.Families.Select(UpdateMessage.EndOfRib));
        return updates;
    }

    /// <summary>Everything sent in one family again, as a ROUTE-REFRESH asks (RFC 2918).</summary>
    public List<UpdateMessage> Resend(AfiSafi family) =>
        session.Families.Contains(family) ? Announcements(_sent.Where(r => AfiSafi.UnicastFor(r.Key.Family) == family).ToList()) : [];

    private List<UpdateMessage> Announcements(IEnumerable<KeyValuePair<Cidr, IPAddress>> routes)
    {
        var updates = new List<UpdateMessage>();
        foreach (var group in routes.GroupBy(r => (Family: AfiSafi.UnicastFor(r.Key.Family), NextHop: r.Value))
                     .OrderBy(g => g.Key.Family.Afi).ThenBy(g => g.Key.NextHop.ToString()))
        {
            var attributes = RouteAttributes.For(session, localAsn, group.Key.Family, group.Key.NextHop);
            foreach (var batch in Pack(group.Select(r => r.Key).Order().ToList(), Size(attributes, group.Key.Family)))
                updates.Add(group.Key.Family == AfiSafi.IPv4Unicast
                    ? new UpdateMessage([], attributes, batch)
                    : new UpdateMessage([], [.. attributes, new MpReachNlriAttribute(group.Key.Family, [group.Key.NextHop], batch)], []));
        }
        return updates;
    }

    private List<UpdateMessage> Withdrawals(AfiSafi family, List<Cidr> prefixes)
    {
        var emptyWithdrawal = family == AfiSafi.IPv4Unicast
            ? new UpdateMessage([], [], [])
            : new UpdateMessage([], [new MpUnreachNlriAttribute(family, [])], []);
        return Pack(prefixes, BgpCodec.Encode(emptyWithdrawal, session.Codec).Length)
            .Select(batch => family == AfiSafi.IPv4Unicast
                ? new UpdateMessage(batch, [], [])
                : new UpdateMessage([], [new MpUnreachNlriAttribute(family, batch)], []))
            .ToList();
    }

    /// <summary>The size of an UPDATE with these attributes and no prefixes yet.</summary>
    private int Size(List<PathAttribute> attributes, AfiSafi family) => BgpCodec.Encode(family == AfiSafi.IPv4Unicast
        ? new UpdateMessage([], attributes, [])
        : new UpdateMessage([], [.. attributes, new MpReachNlriAttribute(family, [IPAddress.IPv6Any], [])], []), session.Codec).Length;

    private static IEnumerable<List<Cidr>> Pack(List<Cidr> prefixes, int baseSize)
    {
        var batch = new List<Cidr>();
        int size = baseSize;
        foreach (var prefix in prefixes)
        {
            if (batch.Count > 0 && size + BgpCodec.PrefixSize(prefix) > BgpCodec.MaxMessageLength)
            {
                yield return batch;
                batch = [];
                size = baseSize;
            }
            batch.Add(prefix);
            size += BgpCodec.PrefixSize(prefix);
        }
        if (batch.Count > 0) yield return batch;
    }
}
