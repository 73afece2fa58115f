using System.Text.Json;

namespace Trellis.ApiServer.Selectors;

public sealed record FieldRequirement(string Path, bool Equal, string Value);

/// <summary>
/// A field selector (?fieldSelector=): "a.b=v", "a.b==v", "a.b!=v", comma-separated. Unlike the
/// real server, which allows a fixed list of fields per kind, any dotted JSON path works; a
/// missing field compares as "" so "spec.nodeName=" selects objects without one.
/// </summary>
public sealed class FieldSelector
{
    public static readonly FieldSelector Everything = new([]);

    public IReadOnlyList<FieldRequirement> Requirements { get; }

    private FieldSelector(IReadOnlyList<FieldRequirement> requirements) => Requirements = requirements;

    public bool IsEverything => Requirements.Count == 0;

    public bool Matches(JsonElement obj) => Requirements.All(r => (ValueAt(obj, r.Path) == r.Value) == r.Equal);

    /// <exception cref="FormatException">The message quotes the selector and says what is wrong.</exception>
    public static FieldSelector Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return Everything;
        var requirements = new List<FieldRequirement>();
        foreach (var term in text.Split(','))
        {
            var trimmed = term.Trim();
            int at;
            FieldRequirement requirement;
            if ((at = trimmed.IndexOf("!=", StringComparison.Ordinal)) > 0)
                requirement = new FieldRequirement(trimmed[..at].Trim(), false, trimmed[(at + 2)..].Trim());
            else if ((at = trimmed.IndexOf("==", StringComparison.Ordinal)) > 0)
                requirement = new FieldRequirement(trimmed[..at].Trim(), true, trimmed[(at + 2)..].Trim());
            else if ((at = trimmed.IndexOf('=')) > 0)
                requirement = new FieldRequirement(trimmed[..at].Trim(), true, trimmed[(at + 1)..].Trim());
            else
                throw new FormatException($"invalid field selector \"{text}\": \"{trimmed}\" is not of the form field=value or field!=value");
            if (requirement.Path.Split('.').Any(p => p.Length == 0))
                throw new FormatException($"invalid field selector \"{text}\": \"{requirement.Path}\" is not a dotted field path");
            requirements.Add(requirement);
        }
        return new FieldSelector(requirements);
    }

    /// <summary>The value at a dotted path rendered as the real server's field sets do ("" when absent).</summary>
    public static string ValueAt(JsonElement obj, string path)
    {
        var current = obj;
        foreach (var part in path.Split('.'))
        {
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(part, out current)) return "";
        }
        return current.ValueKind switch
        {
            JsonValueKind.String => current.GetString()!,
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            JsonValueKind.Number => current.GetRawText(),
            JsonValueKind.Null or JsonValueKind.Undefined => "",
            _ => current.GetRawText(),
        };
    }
}
