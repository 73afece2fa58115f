using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace Trellis.Testing;

/// <summary>
/// A network namespace made for one test run and removed when disposed, when the process
/// exits, or by the next run if this one was killed. Names carry the creating process id
/// ("trl4711-3-node1") so a later run can tell a dead run's leftovers from a live one's.
/// </summary>
public sealed partial class NetworkNamespace : IDisposable
{
    private static int s_counter;
    private static readonly ConcurrentDictionary<string, byte> s_live = new();

    static NetworkNamespace()
    {
        RemoveLeftoversOfDeadRuns();
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var name in s_live.Keys) Remove(name);
        };
    }

    public string Name { get; }

    /// <summary>The path a netlink handle or setns opens.</summary>
    public string Path => $"/run/netns/{Name}";

    private NetworkNamespace(string name) => Name = name;

    /// <param name="purpose">A short word (letters, digits, dashes) that says what the namespace plays.</param>
    public static NetworkNamespace Create(string purpose)
    {
        if (!PurposePattern().IsMatch(purpose))
            throw new ArgumentException($"purpose \"{purpose}\" must be short letters, digits and dashes", nameof(purpose));
        var name = $"trl{Environment.ProcessId}-{Interlocked.Increment(ref s_counter)}-{purpose}";
        Shell.RunChecked("ip", "netns", "add", name);
        s_live[name] = 0;
        var ns = new NetworkNamespace(name);
        ns.Exec("ip", "link", "set", "lo", "up");
        return ns;
    }

    /// <summary>Runs a command inside the namespace.</summary>
    public CommandResult Run(string file, params string[] arguments) =>
        Shell.Run("ip", new[] { "netns", "exec", Name, file }.Concat(arguments));

    /// <summary>Runs a command inside the namespace and throws when it fails.</summary>
    public string Exec(string file, params string[] arguments) =>
        Shell.RunChecked("ip", new[] { "netns", "exec", Name, file }.Concat(arguments).ToArray());

    /// <summary>One ping; true when answered.</summary>
    public bool Ping(string address, int count = 1, double timeoutSeconds = 2) =>
        Run("ping", "-c", count.ToString(), "-W", timeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture), "-q", address).Succeeded;

    public void Dispose()
    {
        if (s_live.TryRemove(Name, out _)) Remove(Name);
    }

    private static void Remove(string name)
    {
        // Processes left inside (agents, pings) would keep the namespace alive; end them first.
        var pids = Shell.Run("ip", "netns", "pids", name);
        foreach (var pid in pids.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            Shell.Run("kill", "-9", pid.Trim());
        Shell.Run("ip", "netns", "del", name);
    }

    private static void RemoveLeftoversOfDeadRuns()
    {
        var list = Shell.Run("ip", "netns", "list");
        foreach (var line in list.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var name = line.Split(' ')[0];
            var match = OwnedName().Match(name);
            if (match.Success && !Directory.Exists($"/proc/{match.Groups[1].Value}"))
                Remove(name);
        }
    }

    [GeneratedRegex("^[a-z0-9-]{1,20}$")]
    private static partial Regex PurposePattern();

    [GeneratedRegex("^trl([0-9]+)-")]
    private static partial Regex OwnedName();
}
