using System.Text.Json;

namespace Trellis.ApiServer.Selectors;

public enum LabelOperator { Equals, NotEquals, In, NotIn, Exists, DoesNotExist }

public sealed record LabelRequirement(string Key, LabelOperator Operator, IReadOnlyList<string> Values)
{
    public bool Matches(IReadOnlyDictionary<string, string> labels)
    {
        var present = labels.TryGetValue(Key, out var value);
        return Operator switch
        {
            LabelOperator.Equals => present && value == Values[0],
            LabelOperator.NotEquals => !present || value != Values[0],
            LabelOperator.In => present && Values.Contains(value!),
            LabelOperator.NotIn => !present || !Values.Contains(value!),
            LabelOperator.Exists => present,
            LabelOperator.DoesNotExist => !present,
            _ => false,
        };
    }
}

/// <summary>
/// A label selector in the query-string syntax (?labelSelector=): "a=b", "a==b", "a!=b",
/// "a in (x,y)", "a notin (x)", "a", "!a", comma-separated and all required.
/// </summary>
public sealed class LabelSelector
{
    public static readonly LabelSelector Everything = new([]);

    public IReadOnlyList<LabelRequirement> Requirements { get; }

    private LabelSelector(IReadOnlyList<LabelRequirement> requirements) => Requirements = requirements;

    public bool IsEverything => Requirements.Count == 0;

    public bool Matches(IReadOnlyDictionary<string, string> labels) => Requirements.All(r => r.Matches(labels));

    public bool Matches(JsonElement obj) => IsEverything || Matches(LabelsOf(obj));

    public static IReadOnlyDictionary<string, string> LabelsOf(JsonElement obj)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (obj.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object
            && metadata.TryGetProperty("labels", out var map) && map.ValueKind == JsonValueKind.Object)
            foreach (var label in map.EnumerateObject())
                labels[label.Name] = label.Value.ValueKind == JsonValueKind.String ? label.Value.GetString()! : label.Value.GetRawText();
        return labels;
    }

    /// <exception cref="FormatException">The message quotes the selector and says what is wrong.</exception>
    public static LabelSelector Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return Everything;
        var requirements = new List<LabelRequirement>();
        var position = 0;
        while (true)
        {
            SkipSpaces(text, ref position);
            requirements.Add(ParseRequirement(text, ref position));
            SkipSpaces(text, ref position);
            if (position == text.Length) break;
            if (text[position] != ',') throw Error(text, $"expected ',' at position {position}");
            position++;
        }
        return new LabelSelector(requirements);
    }

    private static LabelRequirement ParseRequirement(string text, ref int position)
    {
        if (position < text.Length && text[position] == '!')
        {
            position++;
            SkipSpaces(text, ref position);
            return new LabelRequirement(ReadKey(text, ref position), LabelOperator.DoesNotExist, []);
        }
        var key = ReadKey(text, ref position);
        SkipSpaces(text, ref position);
        if (position == text.Length || text[position] == ',') return new LabelRequirement(key, LabelOperator.Exists, []);
        if (Take(text, ref position, "==") || Take(text, ref position, "="))
            return new LabelRequirement(key, LabelOperator.Equals, [ReadValue(text, ref position)]);
        if (Take(text, ref position, "!="))
            return new LabelRequirement(key, LabelOperator.NotEquals, [ReadValue(text, ref position)]);
        if (TakeWord(text, ref position, "notin")) return new LabelRequirement(key, LabelOperator.NotIn, ReadSet(text, ref position));
        if (TakeWord(text, ref position, "in")) return new LabelRequirement(key, LabelOperator.In, ReadSet(text, ref position));
        throw Error(text, $"unknown operator after \"{key}\" at position {position}");
    }

    private static string ReadKey(string text, ref int position)
    {
        var start = position;
        while (position < text.Length && IsKeyChar(text[position])) position++;
        if (position == start) throw Error(text, $"expected a label key at position {start}");
        var key = text[start..position];
        var slash = key.IndexOf('/');
        var name = slash < 0 ? key : key[(slash + 1)..];
        if (name.Length == 0 || name.Length > 63 || !char.IsAsciiLetterOrDigit(name[0]) || !char.IsAsciiLetterOrDigit(name[^1]))
            throw Error(text, $"\"{key}\" is not a valid label key");
        return key;
    }

    private static string ReadValue(string text, ref int position)
    {
        SkipSpaces(text, ref position);
        var start = position;
        while (position < text.Length && IsValueChar(text[position])) position++;
        var value = text[start..position];
        if (value.Length > 63 || (value.Length > 0 && (!char.IsAsciiLetterOrDigit(value[0]) || !char.IsAsciiLetterOrDigit(value[^1]))))
            throw Error(text, $"\"{value}\" is not a valid label value");
        return value;
    }

    private static IReadOnlyList<string> ReadSet(string text, ref int position)
    {
        SkipSpaces(text, ref position);
        if (position == text.Length || text[position] != '(') throw Error(text, $"expected '(' at position {position}");
        position++;
        var values = new List<string>();
        while (true)
        {
            values.Add(ReadValue(text, ref position));
            SkipSpaces(text, ref position);
            if (position == text.Length) throw Error(text, "missing ')'");
            if (text[position] == ')') { position++; break; }
            if (text[position] != ',') throw Error(text, $"expected ',' or ')' at position {position}");
            position++;
        }
        return values;
    }

    private static bool Take(string text, ref int position, string token)
    {
        if (string.CompareOrdinal(text, position, token, 0, token.Length) != 0) return false;
        position += token.Length;
        return true;
    }

    private static bool TakeWord(string text, ref int position, string word)
    {
        if (string.CompareOrdinal(text, position, word, 0, word.Length) != 0) return false;
        var end = position + word.Length;
        if (end < text.Length && IsKeyChar(text[end])) return false;
        position = end;
        return true;
    }

    private static void SkipSpaces(string text, ref int position)
    {
        while (position < text.Length && text[position] == ' ') position++;
    }

    private static bool IsKeyChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '/';
    private static bool IsValueChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.';

    private static FormatException Error(string text, string detail) => new($"unable to parse label selector \"{text}\": {detail}");
}
