using Trellis.Addressing;
using Trellis.Bgp.Messages;

namespace Trellis.Bgp.Routing;

/// <summary>
/// What a peer has announced to this speaker (RFC 4271 §3.2 Adj-RIB-In), as prefixes only:
/// the speaker installs nothing it learns, but counts it and notes each End-of-RIB.
/// </summary>
public sealed class AdjRibIn
{
    private readonly HashSet<(AfiSafi Family, Cidr Prefix)> _routes = [];
    private readonly HashSet<AfiSafi> _endOfRib = [];

    public int Count => _routes.Count;

    public IReadOnlySet<AfiSafi> EndOfRibReceived => _endOfRib;

    public int CountOf(AfiSafi family) => _routes.Count(r => r.Family == family);

    public void Apply(UpdateMessage update)
    {
        if (update.IsEndOfRib(out var family))
        {
            _endOfRib.Add(family);
            return;
        }
        foreach (var route in update.WithdrawnRoutes()) _routes.Remove(route);
        // RFC 7606 treat-as-withdraw: a route whose attributes were malformed is no route at all.
        foreach (var route in update.Announced())
            if (update.TreatAsWithdraw is null) _routes.Add(route);
            else _routes.Remove(route);
    }
}
