namespace Trellis.Local.Commands;

/// <summary>A tiny flag parser: `--name value` pairs and bare `--switch`es, refusing anything unknown.</summary>
public sealed class CommandLine
{
    private readonly Dictionary<string, string?> _flags = new(StringComparer.Ordinal);

    public IReadOnlyList<string> Positional { get; }

    public CommandLine(IEnumerable<string> args, IReadOnlySet<string> valued, IReadOnlySet<string> switches)
    {
        var positional = new List<string>();
        var list = args.ToList();
        for (int i = 0; i < list.Count; i++)
        {
            var arg = list[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                positional.Add(arg);
                continue;
            }
            var (name, inline) = arg.IndexOf('=') is var eq and > 0 ? (arg[..eq], arg[(eq + 1)..]) : (arg, null);
            if (switches.Contains(name)) _flags[name] = inline ?? "true";
            else if (valued.Contains(name))
            {
                if (inline is null && i + 1 >= list.Count) throw new UsageException($"{name} needs a value");
                _flags[name] = inline ?? list[++i];
            }
            else throw new UsageException($"unknown flag {name}");
        }
        Positional = positional;
    }

    public string? Get(string name) => _flags.GetValueOrDefault(name);

    public bool Has(string name) => _flags.ContainsKey(name);

    public int GetInt(string name, int fallback) =>
        Get(name) is { } text ? int.TryParse(text, out int value) ? value : throw new UsageException($"{name} must be a whole number, not \"{text}\"") : fallback;
}

public sealed class UsageException(string message) : Exception(message);
