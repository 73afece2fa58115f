using System.CommandLine;
using System.Globalization;
using FluentValidation;
using Trellis.Ipam;

namespace Trellis.NodeAgent;

/// <summary>The agent's settings, read from its command line (the flags config/agent/daemonset.yaml uses) and validated at start-up.</summary>
public sealed record AgentOptions
{
    /// <summary>Path of a kubeconfig; empty means in-cluster configuration.</summary>
    public string? Kubeconfig { get; init; }

    /// <summary>This node's name; the NODE_NAME environment variable when the flag is absent.</summary>
    public string NodeName { get; init; } = Environment.GetEnvironmentVariable("NODE_NAME") ?? "";

    public string CniConfDir { get; init; } = "/etc/cni/net.d";
    public string CniBinDir { get; init; } = "/opt/cni/bin";
    public string StateDir { get; init; } = NodeContract.DefaultStateDirectory;

    /// <summary>The trellis-cni binary to install; by default the one shipped next to the agent.</summary>
    public string CniPluginSource { get; init; } = Path.Combine(AppContext.BaseDirectory, NodeContract.PluginType);

    /// <summary>A duration such as "30s", "2m", "500ms" or "00:00:30".</summary>
    public string ResyncPeriod { get; init; } = "30s";

    public string Bridge { get; init; } = NodeContract.DefaultBridge;

    /// <summary>Port of /metrics (NetworkPolicy drop counters and table size); 0 turns the endpoint off.</summary>
    public int MetricsPort { get; init; } = 9612;

    /// <summary>How long an allocation's pod must have been seen gone before its address is freed (and how old the allocation must be).</summary>
    public string ReclaimGracePeriod { get; init; } = "60s";

    public string IpamDataDir => NodeContract.IpamDataDirectory(StateDir);

    public TimeSpan Resync => Duration.TryParse(ResyncPeriod, out var value) ? value : TimeSpan.Zero;

    public TimeSpan ReclaimGrace => Duration.TryParse(ReclaimGracePeriod, out var value) ? value : TimeSpan.Zero;
}

/// <summary>trellis-agent's flags and how they become <see cref="AgentOptions"/>.</summary>
public static class AgentCommandLine
{
    public const string Program = "trellis-agent";

    private static readonly AgentOptions Defaults = new();

    private static readonly Option<string?> Kubeconfig = new("--kubeconfig")
    {
        Description = "Path of a kubeconfig; without it the agent uses its in-cluster service account",
        HelpName = "path",
    };
    private static readonly Option<string> NodeName = Valued("--node-name", "This node's name (default: $NODE_NAME)", "name", () => Defaults.NodeName);
    private static readonly Option<string> CniConfDir = Valued("--cni-conf-dir", "Where the CNI configuration is written", "dir", () => Defaults.CniConfDir);
    private static readonly Option<string> CniBinDir = Valued("--cni-bin-dir", "Where the trellis-cni plugin is installed", "dir", () => Defaults.CniBinDir);
    private static readonly Option<string> StateDir = Valued("--state-dir", "The agent's and the plugin's state (IPAM records under ipam/)", "dir", () => Defaults.StateDir);
    private static readonly Option<string> CniPluginSource = Valued("--cni-plugin-source", "The trellis-cni binary to install", "path", () => Defaults.CniPluginSource);
    private static readonly Option<string> ResyncPeriod = Valued("--resync-period", "How often the node is checked against its NodeSubnets even without a change, e.g. 30s or 5m", "duration", () => Defaults.ResyncPeriod);
    private static readonly Option<string> ReclaimGracePeriod = Valued("--reclaim-grace-period",
        "How long the address of a pod that is gone stays held before the agent frees it (seen gone on two passes this far apart, and the allocation at least this old), e.g. 60s", "duration", () => Defaults.ReclaimGracePeriod);
    private static readonly Option<string> Bridge = Valued("--bridge", "The pod bridge's name", "name", () => Defaults.Bridge);
    private static readonly Option<int> MetricsPort = new("--metrics-port")
    {
        Description = "Port of /metrics (NetworkPolicy drop counters and table size); 0 turns the endpoint off",
        HelpName = "port",
        DefaultValueFactory = _ => Defaults.MetricsPort,
    };

    public static RootCommand Command()
    {
        var command = new RootCommand("The Trellis node agent: makes this node match its NodeSubnet (bridge, gateway, routes or VXLAN to every peer, masquerade) and writes the CNI configuration.");
        foreach (var option in new Option[] { Kubeconfig, NodeName, CniConfDir, CniBinDir, StateDir, CniPluginSource, ResyncPeriod, ReclaimGracePeriod, Bridge, MetricsPort })
            command.Options.Add(option);
        return command;
    }

    public static AgentOptions Bind(ParseResult parse) => new()
    {
        Kubeconfig = parse.GetValue(Kubeconfig),
        NodeName = parse.GetValue(NodeName)!,
        CniConfDir = parse.GetValue(CniConfDir)!,
        CniBinDir = parse.GetValue(CniBinDir)!,
        StateDir = parse.GetValue(StateDir)!,
        CniPluginSource = parse.GetValue(CniPluginSource)!,
        ResyncPeriod = parse.GetValue(ResyncPeriod)!,
        ReclaimGracePeriod = parse.GetValue(ReclaimGracePeriod)!,
        Bridge = parse.GetValue(Bridge)!,
        MetricsPort = parse.GetValue(MetricsPort),
    };

    /// <summary>The init container's command: install the image's plugins into the host's CNI bin directory, then exit.</summary>
    public const string InstallCniVerb = "install-cni";

    private static readonly Option<string> InstallBinDir = Valued("--cni-bin-dir", "The host's CNI bin directory to install into", "dir", () => Defaults.CniBinDir);
    private static readonly Option<string> InstallSourceDir = Valued("--plugins-dir", "The directory of plugins to install (trellis-cni and the plugins the conflist chains)", "dir",
        () => Path.GetDirectoryName(Defaults.CniPluginSource)!);

    public static Command InstallCniCommand() => new(InstallCniVerb, "Install trellis-cni and the chained plugins into the CNI bin directory, then exit (the DaemonSet's init container)")
    {
        Options = { InstallBinDir, InstallSourceDir },
    };

    public static InstallCniOptions BindInstallCni(ParseResult parse) => new(parse.GetValue(InstallSourceDir)!, parse.GetValue(InstallBinDir)!);

    private static Option<string> Valued(string name, string description, string helpName, Func<string> defaultValue) => new(name)
    {
        Description = description,
        HelpName = helpName,
        DefaultValueFactory = _ => defaultValue(),
    };
}

/// <summary>What `trellis-agent install-cni` copies where.</summary>
public sealed record InstallCniOptions(string PluginsDirectory, string CniBinDir);

public sealed class InstallCniOptionsValidator : AbstractValidator<InstallCniOptions>
{
    public InstallCniOptionsValidator()
    {
        RuleFor(o => o.PluginsDirectory).Must(Directory.Exists).WithMessage(o => $"--plugins-dir \"{o.PluginsDirectory}\" is not a directory");
        RuleFor(o => o.CniBinDir).Must(path => !string.IsNullOrWhiteSpace(path) && Path.IsPathFullyQualified(path))
            .WithMessage(o => $"--cni-bin-dir \"{o.CniBinDir}\" must be an absolute path");
    }
}

/// <summary>Checks the options at start-up; each failure names the flag and the value.</summary>
public sealed class AgentOptionsValidator : AbstractValidator<AgentOptions>
{
    public AgentOptionsValidator()
    {
        RuleFor(o => o.NodeName).NotEmpty().WithMessage("--node-name (or NODE_NAME) is required");
        foreach (var (flag, read) in new (string, Func<AgentOptions, string>)[] { ("--cni-conf-dir", o => o.CniConfDir), ("--cni-bin-dir", o => o.CniBinDir), ("--state-dir", o => o.StateDir) })
            RuleFor(o => read(o)).Must(value => !string.IsNullOrWhiteSpace(value) && Path.IsPathFullyQualified(value))
                .WithMessage(o => $"{flag} \"{read(o)}\" must be an absolute path");
        RuleFor(o => o.ResyncPeriod).Must(text => Duration.TryParse(text, out var resync) && resync > TimeSpan.Zero)
            .WithMessage(o => $"--resync-period \"{o.ResyncPeriod}\" is not a positive duration such as 30s");
        RuleFor(o => o.ReclaimGracePeriod).Must(text => Duration.TryParse(text, out var grace) && grace > TimeSpan.Zero)
            .WithMessage(o => $"--reclaim-grace-period \"{o.ReclaimGracePeriod}\" is not a positive duration such as 60s");
        RuleFor(o => o.Bridge).Must(name => !string.IsNullOrEmpty(name) && name.Length <= 15 && !name.Any(c => c == '/' || char.IsWhiteSpace(c)))
            .WithMessage(o => $"--bridge \"{o.Bridge}\" is not an interface name (1-15 characters, no '/' or spaces)");
        RuleFor(o => o.MetricsPort).InclusiveBetween(0, 65_535)
            .WithMessage(o => $"--metrics-port {o.MetricsPort} is outside 0..65535 (0 turns /metrics off)");
        RuleFor(o => o.CniPluginSource).Must(File.Exists)
            .WithMessage(o => $"--cni-plugin-source \"{o.CniPluginSource}\" does not exist");
        RuleFor(o => o.Kubeconfig).Must(path => string.IsNullOrEmpty(path) || File.Exists(path))
            .WithMessage(o => $"--kubeconfig \"{o.Kubeconfig}\" does not exist");
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
