using System.Diagnostics;
using System.Text.RegularExpressions;
using Trellis.Netlink;
using Trellis.Testing;

namespace Trellis.Cni.Tests;

/// <summary>
/// One system call of a traced run: its name, which occurrence of that name it is in the main
/// thread (as strace's when= counts, from the process's start), which occurrence of that name it
/// is counted from the first call naming the pod's namespace, and strace's line.
/// </summary>
/// <remarks>
/// The count from the process's start is only a first guess for a later run: before the plugin's
/// own code starts, the .NET runtime reads /proc/self/mountinfo in 1 KiB pieces to find its
/// cgroup, and that file grows and shrinks as other tests mount and unmount network namespaces
/// (traced runs get a mount namespace of their own to keep it still, but mount IDs still grow).
/// The count from the first call naming the pod's namespace is the identity.
/// </remarks>
public sealed record SyscallOccurrence(string Name, int Occurrence, int SinceStart, TraceStart Start, string Line)
{
    public override string ToString() => $"{Name} #{SinceStart} from the start: {(Line.Length > 160 ? Line[..160] + "…" : Line)}";
}

/// <summary>The name of the first call of the plugin's own work: the first one naming the pod's namespace (CNI_NETNS).</summary>
public sealed record TraceStart(string Name);

/// <summary>
/// The plugin under Debian's strace, started from a thread inside the node's namespace (the
/// child inherits it, and no `ip netns exec` is paid for). <see cref="Enumerate"/> lists the
/// file and netlink system calls of one invocation; <see cref="RunInjected"/> runs it again
/// with a fault at one of them (<c>-e inject=NAME:signal=KILL:when=N</c>, or an error). strace
/// counts occurrences per thread, so only the plugin's main thread is enumerated: the plugin
/// makes every call of ADD on it (it visits the pod's namespace on that thread too).
/// </summary>
public static partial class SyscallInjection
{
    /// <summary>Memory management is in strace's %desc class but changes nothing outside the process.</summary>
    private static readonly HashSet<string> Ignored = ["mmap", "munmap", "mprotect", "mremap", "madvise", "brk"];

    /// <summary>
    /// How many runs <see cref="UntilAtRequestedCall"/> makes to land the fault on the call it was asked for. The
    /// drift can change between any two runs while namespaces come and go, so one correction may not be the last.
    /// </summary>
    private const int Attempts = 12;

    /// <summary>
    /// Every file, descriptor and network system call of the main thread from the first one that
    /// names the pod's namespace (before it the plugin has touched nothing).
    /// </summary>
    public static IReadOnlyList<SyscallOccurrence> Enumerate(string nodePath, IDictionary<string, string> environment, string config)
    {
        var startMarker = environment["CNI_NETNS"];
        using var trace = new TemporaryDirectory("trellis-strace-");
        var output = Path.Combine(trace.Path, "trace");
        var run = RunTraced(nodePath, environment, config, ["-f", "-y", "-s", "96", "-o", output, "-e", "trace=%file,%desc,%network,setns", PluginNode.PluginPath]);
        if (run.ExitCode != 0) throw new InvalidOperationException($"the traced run failed: {run.StandardOutput} {run.StandardError}");

        var calls = MainThreadCalls(File.ReadAllLines(output));
        var startIndex = calls.FindIndex(c => c.Line.Contains(startMarker, StringComparison.Ordinal));
        if (startIndex < 0) throw new InvalidOperationException($"no system call mentions {startMarker}");
        var start = new TraceStart(calls[startIndex].Name);

        var total = new Dictionary<string, int>();
        var sinceStart = new Dictionary<string, int>();
        var result = new List<SyscallOccurrence>();
        for (var i = 0; i < calls.Count; i++)
        {
            var (name, line) = calls[i];
            total[name] = total.GetValueOrDefault(name) + 1;
            if (i < startIndex) continue;
            sinceStart[name] = sinceStart.GetValueOrDefault(name) + 1;
            if (!Ignored.Contains(name)) result.Add(new SyscallOccurrence(name, total[name], sinceStart[name], start, line));
        }
        return result;
    }

    /// <summary>
    /// Runs the plugin once with <paramref name="fault"/> ("signal=KILL", "error=ENOSPC") injected
    /// at the <paramref name="when"/>-th call of <paramref name="point"/>'s name. A run whose earlier
    /// calls were counted differently from the enumeration's meets another call of that name: the
    /// result says so, and gives the when= that would have met the point in this run.
    /// </summary>
    public static InjectedRun RunInjected(string nodePath, IDictionary<string, string> environment, string config, SyscallOccurrence point, string fault, int when)
    {
        using var trace = new TemporaryDirectory("trellis-strace-");
        var output = Path.Combine(trace.Path, "trace");
        // execve: the main thread's first line, so the main thread is known even when another thread
        // makes the first call of the point's name.
        var traced = string.Join(',', new[] { "execve", point.Name, point.Start.Name }.Distinct());
        var run = RunTraced(nodePath, environment, config,
        [
            // Not --seccomp-bpf: with it strace 6.1 skips occurrences when counting for when=.
            "-f", "-y", "-o", output, "-e", $"trace={traced}",
            "-e", $"inject={point.Name}:{fault}:when={when}", PluginNode.PluginPath,
        ]);
        var lines = File.Exists(output) ? File.ReadAllLines(output) : [];
        var killed = lines.Any(l => l.Contains("killed by SIGKILL", StringComparison.Ordinal));
        var injected = lines.Any(l => l.Contains("(INJECTED)", StringComparison.Ordinal));

        // How many calls of the point's name the main thread made before it first named the pod's namespace, in this run.
        var calls = MainThreadCalls(lines);
        var startIndex = calls.FindIndex(c => c.Name == point.Start.Name && c.Line.Contains(environment["CNI_NETNS"], StringComparison.Ordinal));
        // A fault before that point says only that there were at least when= of them: the next run tells more.
        var faulted = killed || injected;
        int? before = startIndex >= 0 ? calls.Take(startIndex).Count(c => c.Name == point.Name)
            : faulted ? calls.Count(c => c.Name == point.Name) : null;
        int? corrected = before + point.SinceStart;
        return new InjectedRun(run, when, killed, injected, AtRequestedCall: faulted && startIndex >= 0 && corrected == when, CorrectedWhen: corrected);
    }

    /// <summary>
    /// Runs <paramref name="attempt"/> (one injected run and whatever the caller does after it: a
    /// reaction, checks, clean-up) until its fault meets <paramref name="point"/> itself, correcting
    /// when= from each run, at most <see cref="Attempts"/> times. A run that met another call is
    /// still a real fault with real checks after it, just not the one asked for.
    /// </summary>
    public static InjectedRun UntilAtRequestedCall(SyscallOccurrence point, int firstGuess, Func<int, InjectedRun> attempt)
    {
        var when = firstGuess;
        for (var i = 1; ; i++)
        {
            var run = attempt(when);
            if (run.AtRequestedCall || i == Attempts || run.CorrectedWhen is not { } corrected || corrected == when) return run;
            when = corrected;
        }
    }

    /// <summary>The calls of the traced process's main thread (the first pid strace names: its execve), in order.</summary>
    private static List<(string Name, string Line)> MainThreadCalls(IReadOnlyList<string> lines)
    {
        var first = lines.Select(l => TraceLine().Match(l)).FirstOrDefault(m => m.Success);
        if (first is null) return [];
        var main = first.Groups["pid"].Value;
        return lines.Select(l => (Match: TraceLine().Match(l), Line: l))
            .Where(c => c.Match.Success && c.Match.Groups["pid"].Value == main)
            .Select(c => (c.Match.Groups["name"].Value, c.Line)).ToList();
    }

    /// <summary>
    /// Runs strace with <paramref name="straceArguments"/> in a mount namespace of its own in which, of the namespaces in
    /// /run/netns, only the pod's is mounted: the runtime's reads of /proc/self/mountinfo before the plugin's own code then
    /// number the same in every run, whatever namespaces other tests (and the busy world's churn) make and remove meanwhile.
    /// </summary>
    private static PluginRun RunTraced(string nodePath, IDictionary<string, string> environment, string config, IReadOnlyList<string> straceArguments) =>
        Run(nodePath, environment, config, ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", OnlyThePodsNamespaceMounted, "stable-mounts", "strace", .. straceArguments]);

    /// <summary>
    /// Moves the pod's namespace aside, detaches /run/netns with every namespace under it (one unmount, however many there
    /// are), and moves the pod's back to its own path, which the plugin opens and the trace is searched for.
    /// </summary>
    private const string OnlyThePodsNamespaceMounted = """
        case "$CNI_NETNS" in
          /run/netns/*)
            aside=$(mktemp) && mount --move "$CNI_NETNS" "$aside" && umount -l /run/netns && mount --move "$aside" "$CNI_NETNS" && rm -f "$aside" ||
              { echo "stable-mounts: cannot leave only $CNI_NETNS mounted in /run/netns" >&2; exit 97; } ;;
        esac
        exec "$@"
        """;

    /// <summary>Runs <paramref name="command"/> from a thread inside the node's namespace.</summary>
    public static PluginRun Run(string nodePath, IDictionary<string, string> environment, string standardInput, IReadOnlyList<string> command)
    {
        var info = new ProcessStartInfo(command[0])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in command.Skip(1)) info.ArgumentList.Add(argument);
        foreach (var (key, value) in environment) info.Environment[key] = value;
        using var process = NetworkNamespaceRunner.Run(nodePath, () => Process.Start(info)!);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(standardInput);
        process.StandardInput.Close();
        if (!process.WaitForExit(TimeSpan.FromMinutes(1)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{string.Join(' ', command)} did not finish in a minute");
        }
        process.WaitForExit();
        return new PluginRun(process.ExitCode, stdout.Result, stderr.Result);
    }

    [GeneratedRegex(@"^(?<pid>\d+) +(?<name>[a-z_0-9]+)\(")]
    private static partial Regex TraceLine();
}

/// <summary>
/// An injected run: the plugin's exit; the when= it ran with; whether strace saw it killed or injected an error; whether
/// that fault met the call asked for; and the when= that would have met it in this run (a lower
/// bound when the fault came before the plugin named the pod's namespace; null when the run ended
/// without a fault before naming it).
/// </summary>
public sealed record InjectedRun(PluginRun Run, int When, bool Killed, bool Injected, bool AtRequestedCall, int? CorrectedWhen);
