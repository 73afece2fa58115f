using System.Text.Json;
using System.Text.RegularExpressions;

namespace Trellis.ApiServer.Tables;

/// <summary>
/// The JSONPath subset printer columns use: ".a.b", "['a.b']", ".list[0]", ".list[*].x" and
/// filters ".conditions[?(@.type=="Ready")].status". Returns every value reached, in order.
/// </summary>
public static partial class SimpleJsonPath
{
    /// <exception cref="FormatException">The expression uses syntax outside this subset.</exception>
    public static IReadOnlyList<JsonElement> Evaluate(JsonElement root, string path)
    {
        var expression = path.Trim();
        if (expression.StartsWith('{') && expression.EndsWith('}')) expression = expression[1..^1];
        if (expression.StartsWith('$')) expression = expression[1..];
        IEnumerable<JsonElement> current = [root];
        var position = 0;
        while (position < expression.Length)
        {
            if (expression[position] == '.')
            {
                var start = ++position;
                while (position < expression.Length && expression[position] is not ('.' or '[')) position++;
                var name = expression[start..position];
                if (name.Length == 0) throw new FormatException($"JSONPath \"{path}\": empty field name at {start}");
                current = current.SelectMany(e => Field(e, name));
            }
            else if (expression[position] == '[')
            {
                var end = FindClose(expression, position, path);
                var inside = expression[(position + 1)..end].Trim();
                position = end + 1;
                current = Select(current, inside, path);
            }
            else throw new FormatException($"JSONPath \"{path}\": unexpected '{expression[position]}' at {position}");
        }
        return current.ToArray();
    }

    private static int FindClose(string expression, int open, string path)
    {
        var depth = 0;
        var quote = '\0';
        for (var i = open; i < expression.Length; i++)
        {
            var c = expression[i];
            if (quote != '\0') { if (c == quote) quote = '\0'; continue; }
            if (c is '\'' or '"') quote = c;
            else if (c == '[') depth++;
            else if (c == ']' && --depth == 0) return i;
        }
        throw new FormatException($"JSONPath \"{path}\": unclosed '[' at {open}");
    }

    private static IEnumerable<JsonElement> Select(IEnumerable<JsonElement> current, string inside, string path)
    {
        if (inside == "*")
            return current.SelectMany(e => e.ValueKind switch
            {
                JsonValueKind.Array => e.EnumerateArray().ToArray(),
                JsonValueKind.Object => e.EnumerateObject().Select(p => p.Value).ToArray(),
                _ => [],
            });
        if (inside.Length >= 2 && inside[0] is '\'' or '"' && inside[^1] == inside[0])
        {
            var name = inside[1..^1];
            return current.SelectMany(e => Field(e, name));
        }
        if (int.TryParse(inside, out var index))
            return current.SelectMany(e =>
            {
                if (e.ValueKind != JsonValueKind.Array) return Array.Empty<JsonElement>();
                var length = e.GetArrayLength();
                var at = index < 0 ? length + index : index;
                return at >= 0 && at < length ? [e[at]] : Array.Empty<JsonElement>();
            });
        var filter = Filter().Match(inside);
        if (filter.Success)
        {
            var field = filter.Groups["field"].Value;
            var negate = filter.Groups["op"].Value == "!=";
            var expected = filter.Groups["value"].Value;
            return current.SelectMany(e => e.ValueKind == JsonValueKind.Array ? e.EnumerateArray().ToArray() : [])
                .Where(item =>
                {
                    var values = Evaluate(item, "." + field);
                    var matches = values.Any(v => Render(v) == expected);
                    return negate ? !matches : matches;
                });
        }
        throw new FormatException($"JSONPath \"{path}\": unsupported selector [{inside}]");
    }

    private static IEnumerable<JsonElement> Field(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) ? [value] : [];

    /// <summary>A scalar as text the way kubectl prints it; composites as compact JSON.</summary>
    public static string Render(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Null or JsonValueKind.Undefined => "",
        _ => value.GetRawText(),
    };

    [GeneratedRegex("""^\?\(@\.(?<field>[A-Za-z0-9_.]+)\s*(?<op>==|!=)\s*(?:"(?<value>[^"]*)"|'(?<value>[^']*)'|(?<value>[^)\s]+))\)$""")]
    private static partial Regex Filter();
}
