using System.Text;

namespace Trellis.NetworkPolicy.Ruleset;

/// <summary>Packets and bytes a counter has seen.</summary>
public readonly record struct CounterValue(long Packets, long Bytes);

/// <summary>
/// Scripts for `nft -f -`, which applies a whole script as one transaction: the kernel holds the
/// old table or the new one, never a mix. A replacement first adds and deletes the table, so it
/// works whether or not the table exists; element changes leave rules and counters untouched.
/// </summary>
public static class PolicyTableScript
{
    private const int ElementsPerLine = 8;
    private const int LongestComment = 120;

    /// <summary>Replaces the whole table; counters start from <paramref name="counters"/> so a replacement does not reset them.</summary>
    public static string Replace(PolicyTable table, IReadOnlyDictionary<string, CounterValue>? counters = null)
    {
        var text = new StringBuilder(Remove(table.Name));
        Append(text, table, counters, withElements: true);
        return text.ToString();
    }

    /// <summary>Removes the table if it exists.</summary>
    public static string Remove(string tableName) =>
        $"add table {PolicyTable.Family} {tableName}\ndelete table {PolicyTable.Family} {tableName}\n";

    /// <summary>The table without set elements and counter values: two tables with the same structure differ only in elements.</summary>
    public static string Structure(PolicyTable table)
    {
        var text = new StringBuilder();
        Append(text, table, null, withElements: false);
        return text.ToString();
    }

    /// <summary>
    /// The element additions and deletions that turn <paramref name="previous"/> into
    /// <paramref name="next"/>, or null when their structure differs (a replacement is needed).
    /// Deletions come first, so a changed range or a map key with a new verdict is never added twice.
    /// </summary>
    public static string? ElementChanges(PolicyTable previous, PolicyTable next)
    {
        if (previous.Name != next.Name || Structure(previous) != Structure(next)) return null;
        var deletions = new StringBuilder();
        var additions = new StringBuilder();
        var before = previous.Sets.ToDictionary(s => s.Name, StringComparer.Ordinal);
        foreach (var set in next.Sets)
        {
            var old = before[set.Name].Elements.Select(e => e.ToString()!).ToHashSet(StringComparer.Ordinal);
            var now = set.Elements.Select(e => e.ToString()!).ToList();
            var removed = old.Except(now, StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            var added = now.Where(e => !old.Contains(e)).ToList();
            if (removed.Count > 0) AppendElements(deletions, "delete", next.Name, set.Name, removed);
            if (added.Count > 0) AppendElements(additions, "add", next.Name, set.Name, added);
        }
        return deletions.Append(additions).ToString();
    }

    private static void AppendElements(StringBuilder text, string verb, string table, string set, IReadOnlyList<string> elements)
    {
        text.Append($"{verb} element {PolicyTable.Family} {table} {set} {{ ");
        AppendList(text, elements, "\t");
        text.Append(" }\n");
    }

    private static void Append(StringBuilder text, PolicyTable table, IReadOnlyDictionary<string, CounterValue>? counters, bool withElements)
    {
        text.Append($"table {PolicyTable.Family} {table.Name} {{\n");
        foreach (var counter in table.Counters)
        {
            text.Append($"\tcounter {counter.Name} {{\n\t\tcomment \"{Comment(counter.Comment)}\"\n");
            if (withElements && counters is not null && counters.TryGetValue(counter.Name, out var value))
                text.Append($"\t\tpackets {value.Packets} bytes {value.Bytes}\n");
            text.Append("\t}\n");
        }
        foreach (var set in table.Sets)
        {
            text.Append($"\t{(set.IsMap ? "map" : "set")} {set.Name} {{\n\t\t{set.Declaration}\n");
            if (set.Comment is { } setComment) text.Append($"\t\tcomment \"{Comment(setComment)}\"\n");
            if (withElements && set.Elements.Count > 0)
            {
                text.Append("\t\telements = { ");
                AppendList(text, set.Elements.Select(e => e.ToString()!).ToList(), "\t\t\t");
                text.Append(" }\n");
            }
            text.Append("\t}\n");
        }
        foreach (var chain in table.Chains)
        {
            text.Append($"\tchain {chain.Name} {{\n");
            if (chain.Comment is { } comment) text.Append($"\t\tcomment \"{Comment(comment)}\"\n");
            if (chain.Hook is { } hook) text.Append($"\t\t{hook}\n");
            foreach (var rule in chain.Rules) text.Append($"\t\t{rule.Render()}\n");
            text.Append("\t}\n");
        }
        text.Append("}\n");
    }

    private static void AppendList(StringBuilder text, IReadOnlyList<string> elements, string indent)
    {
        for (int i = 0; i < elements.Count; i++)
        {
            if (i > 0) text.Append(i % ElementsPerLine == 0 ? $",\n{indent}" : ", ");
            text.Append(elements[i]);
        }
    }

    /// <summary>
    /// Comments carry names and labels from the API, which nothing here trusts: only printable
    /// ASCII that cannot end the quoted string or the line survives, so nothing can be injected.
    /// </summary>
    private static string Comment(string comment)
    {
        var clean = new string(comment.Select(c => c is >= ' ' and <= '~' and not '"' and not '\\' ? c : '?').ToArray());
        return clean.Length <= LongestComment ? clean : clean[..LongestComment];
    }
}
