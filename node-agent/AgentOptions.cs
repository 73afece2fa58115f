using System.Globalization;
using Microsoft.Extensions.Options;
using Trellis.NodeAgent.Planning;

namespace Trellis.NodeAgent;

/// <summary>The agent's flags. The names on the command line are those the DaemonSet manifest uses.</summary>
public sealed class AgentOptions
{
    public const string Section = "Agent";

    /// <summary>Command-line flag → option key.</summary>
    public static readonly IReadOnlyDictionary<string, string> Flags = new Dictionary<string, string>
    {
        ["--kubeconfig"] = $"{Section}:{nameof(Kubeconfig)}",
        ["--node-name"] = $"{Section}:{nameof(NodeName)}",
        ["--cni-conf-dir"] = $"{Section}:{nameof(CniConfDir)}",
        ["--cni-bin-dir"] = $"{Section}:{nameof(CniBinDir)}",
        ["--state-dir"] = $"{Section}:{nameof(StateDir)}",
        ["--cni-plugin-source"] = $"{Section}:{nameof(CniPluginSource)}",
        ["--resync-period"] = $"{Section}:{nameof(ResyncPeriod)}",
        ["--bridge"] = $"{Section}:{nameof(Bridge)}",
        ["--metrics-port"] = $"{Section}:{nameof(MetricsPort)}",
    };

    /// <summary>Path of a kubeconfig; empty means in-cluster configuration.</summary>
    public string? Kubeconfig { get; set; }

    /// <summary>This node's name; the NODE_NAME environment variable when the flag is absent.</summary>
    public string NodeName { get; set; } = Environment.GetEnvironmentVariable("NODE_NAME") ?? "";

    public string CniConfDir { get; set; } = "/etc/cni/net.d";
    public string CniBinDir { get; set; } = "/opt/cni/bin";
    public string StateDir { get; set; } = "/var/lib/trellis";

    /// <summary>The trellis-cni binary to install; by default the one shipped next to the agent.</summary>
    public string CniPluginSource { get; set; } = Path.Combine(AppContext.BaseDirectory, AgentSettings.PluginType);

    /// <summary>A duration such as "30s", "2m", "500ms" or "00:00:30".</summary>
    public string ResyncPeriod { get; set; } = "30s";

    public string Bridge { get; set; } = "trellis0";

    /// <summary>Port of /metrics (NetworkPolicy drop counters and table size); 0 turns the endpoint off.</summary>
    public int MetricsPort { get; set; } = 9612;

    public string IpamDataDir => Path.Combine(StateDir, "ipam");

    public TimeSpan Resync => Duration.TryParse(ResyncPeriod, out var value) ? value : TimeSpan.Zero;

    /// <summary>Rejects flags the agent does not know, so a typo is an error rather than a silently ignored setting.</summary>
    public static string? FindUnknownFlag(IEnumerable<string> args)
    {
        foreach (var arg in args)
        {
            if (!arg.StartsWith("--", StringComparison.Ordinal)) continue;
            var name = arg.Split('=', 2)[0];
            if (!Flags.ContainsKey(name)) return name;
        }
        return null;
    }
}

/// <summary>Checks the options at start-up; each failure names the flag and the value.</summary>
public sealed class AgentOptionsValidator : IValidateOptions<AgentOptions>
{
    public ValidateOptionsResult Validate(string? name, AgentOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.NodeName))
            failures.Add("--node-name (or NODE_NAME) is required");
        foreach (var (flag, value) in new[] { ("--cni-conf-dir", options.CniConfDir), ("--cni-bin-dir", options.CniBinDir), ("--state-dir", options.StateDir) })
            if (string.IsNullOrWhiteSpace(value) || !Path.IsPathFullyQualified(value))
                failures.Add($"{flag} \"{value}\" must be an absolute path");
        if (!Duration.TryParse(options.ResyncPeriod, out var resync) || resync <= TimeSpan.Zero)
            failures.Add($"--resync-period \"{options.ResyncPeriod}\" is not a positive duration such as 30s");
        if (string.IsNullOrEmpty(options.Bridge) || options.Bridge.Length > 15 || options.Bridge.Any(c => c == '/' || char.IsWhiteSpace(c)))
            failures.Add($"--bridge \"{options.Bridge}\" is not an interface name (1-15 characters, no '/' or spaces)");
        if (options.MetricsPort is < 0 or > 65_535)
            failures.Add($"--metrics-port {options.MetricsPort} is outside 0..65535 (0 turns /metrics off)");
        if (!File.Exists(options.CniPluginSource))
            failures.Add($"--cni-plugin-source \"{options.CniPluginSource}\" does not exist");
        if (!string.IsNullOrEmpty(options.Kubeconfig) && !File.Exists(options.Kubeconfig))
            failures.Add($"--kubeconfig \"{options.Kubeconfig}\" does not exist");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Go-style durations ("30s", "1m30s", "250ms"), the form Kubernetes manifests use, or a .NET TimeSpan.</summary>
public static class Duration
{
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (string.IsNullOrWhiteSpace(text)) return false;
        if (text.Contains(':')) return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value);
        var span = text.AsSpan().Trim();
        double totalMs = 0;
        while (!span.IsEmpty)
        {
            int digits = 0;
            while (digits < span.Length && (char.IsAsciiDigit(span[digits]) || span[digits] == '.')) digits++;
            if (digits == 0 || !double.TryParse(span[..digits], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
                return false;
            span = span[digits..];
            int letters = 0;
            while (letters < span.Length && char.IsAsciiLetter(span[letters])) letters++;
            double unitMs = span[..letters] switch
            {
                "ms" => 1,
                "s" => 1000,
                "m" => 60_000,
                "h" => 3_600_000,
                _ => -1,
            };
            if (unitMs < 0) return false;
            totalMs += number * unitMs;
            span = span[letters..];
        }
        value = TimeSpan.FromMilliseconds(totalMs);
        return true;
    }
}
