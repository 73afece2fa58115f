using System.Net;
using Trellis.Bgp.Messages;
using Trellis.Bgp.Session;

namespace Trellis.Bgp.Routing;

/// <summary>The path attributes of this speaker's own routes: it originates them, so the path is its AS alone.</summary>
public static class RouteAttributes
{
    public const uint DefaultLocalPreference = 100;
    private const byte CodeAs4Path = 17;

    /// <summary>
    /// ORIGIN IGP; AS_PATH empty on iBGP, this AS on eBGP (with AS4_PATH when a two-octet peer
    /// needs AS_TRANS, RFC 6793 §4.2.2); NEXT_HOP for IPv4; LOCAL_PREF on iBGP. IPv6 routes add
    /// their next hop and prefixes in MP_REACH_NLRI, which <see cref="AdjRibOut"/> appends.
    /// </summary>
    public static List<PathAttribute> For(NegotiatedSession session, uint localAsn, AfiSafi family, IPAddress nextHop)
    {
        var attributes = new List<PathAttribute> { new OriginAttribute(Origin.Igp) };
        if (session.IsInternal)
            attributes.Add(new AsPathAttribute([]));
        else
        {
            attributes.Add(new AsPathAttribute([new AsPathSegment(AsPathSegmentType.AsSequence, [localAsn])]));
            if (!session.FourOctetAs && localAsn > ushort.MaxValue)
                attributes.Add(new RawAttribute(PathAttribute.OptionalBit | PathAttribute.TransitiveBit, CodeAs4Path,
                    [(byte)AsPathSegmentType.AsSequence, 1, (byte)(localAsn >> 24), (byte)(localAsn >> 16), (byte)(localAsn >> 8), (byte)localAsn]));
        }
        if (family == AfiSafi.IPv4Unicast) attributes.Add(new NextHopAttribute(nextHop));
        if (session.IsInternal) attributes.Add(new LocalPrefAttribute(DefaultLocalPreference));
        return attributes;
    }
}
