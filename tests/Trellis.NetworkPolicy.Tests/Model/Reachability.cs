namespace Trellis.NetworkPolicy.Tests.Model;

/// <summary>
/// An expected truth table as the upstream e2e tests write one: everything allowed, then
/// exceptions by pattern ("*", "x/*", "x/a"). A pod's connection to itself is not a cell:
/// upstream ignores loopback, and it never reaches the node.
/// </summary>
public sealed class Reachability
{
    private readonly Dictionary<(string From, string To), bool> _cells = [];

    public Reachability(IEnumerable<string> pods)
    {
        Pods = pods.ToList();
        foreach (var from in Pods)
            foreach (var to in Pods)
                if (from != to) _cells[(from, to)] = true;
    }

    public IReadOnlyList<string> Pods { get; }

    public IEnumerable<(string From, string To)> Pairs => _cells.Keys;

    public bool this[string from, string to] => _cells[(from, to)];

    public Reachability Expect(string from, string to, bool allowed)
    {
        foreach (var cell in _cells.Keys.ToList())
            if (Matches(from, cell.From) && Matches(to, cell.To)) _cells[cell] = allowed;
        return this;
    }

    public Reachability AllIngress(string pod, bool allowed) => Expect("*", pod, allowed);

    public Reachability AllEgress(string pod, bool allowed) => Expect(pod, "*", allowed);

    private static bool Matches(string pattern, string pod) =>
        pattern == "*" || pattern == pod || (pattern.EndsWith("/*", StringComparison.Ordinal) && pod.StartsWith(pattern[..^1], StringComparison.Ordinal));
}
