using Trellis.Addressing;


namespace Trellis.NodeAgent.Reconciling;

/// <summary>
/// The smallest set of route changes that takes the kernel to the plan. A route that is already
/// right is never touched; a wrong Trellis route is replaced in place (one atomic message, so
/// traffic never sees a gap); a route of any other protocol is left alone even when it is in the way.
/// </summary>
public sealed record RouteDiff(IReadOnlyList<KernelRoute> Replace, IReadOnlyList<KernelRoute> Delete, IReadOnlyList<string> Conflicts)
{
    public bool IsEmpty => Replace.Count == 0 && Delete.Count == 0;

    public static RouteDiff Compute(IReadOnlyList<KernelRoute> desired, IEnumerable<KernelRoute> actual)
    {
        var ours = new Dictionary<Cidr, KernelRoute>();
        var foreign = new Dictionary<Cidr, KernelRoute>();
        foreach (var route in actual)
        {
            if (route.IsTrellis) ours.TryAdd(route.Destination, route);
            else foreign.TryAdd(route.Destination, route);
        }

        var replace = new List<KernelRoute>();
        var conflicts = new List<string>();
        var wanted = new HashSet<Cidr>();
        foreach (var route in desired)
        {
            wanted.Add(route.Destination);
            if (ours.TryGetValue(route.Destination, out var current))
            {
                if (!Same(current, route)) replace.Add(route);
                continue;
            }
            if (foreign.TryGetValue(route.Destination, out var other))
            {
                conflicts.Add($"route to {route.Destination} is held by another owner ({other}); left alone");
                continue;
            }
            replace.Add(route);
        }
        var delete = ours.Values.Where(r => !wanted.Contains(r.Destination)).OrderBy(r => r.Destination).ToList();
        return new RouteDiff(replace, delete, conflicts);
    }

    private static bool Same(KernelRoute a, KernelRoute b) =>
        a.LinkIndex == b.LinkIndex && a.OnLink == b.OnLink && Equals(a.Gateway, b.Gateway);
}
