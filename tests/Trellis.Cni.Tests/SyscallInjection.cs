using System.Diagnostics;
using System.Text.RegularExpressions;
using Trellis.Netlink;
using Trellis.Testing;

namespace Trellis.Cni.Tests;

/// <summary>One system call of a traced run: its name, which occurrence of that name it is in the main thread, and strace's line.</summary>
public sealed record SyscallOccurrence(string Name, int Occurrence, string Line)
{
    public override string ToString() => $"{Name} #{Occurrence}: {(Line.Length > 160 ? Line[..160] + "…" : Line)}";
}

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
    /// Every file, descriptor and network system call of the main thread from the first one whose
    /// line contains <paramref name="startMarker"/> (before it the plugin has touched nothing),
    /// numbered as strace's when= counts them.
    /// </summary>
    public static IReadOnlyList<SyscallOccurrence> Enumerate(string nodePath, IDictionary<string, string> environment, string config, string startMarker)
    {
        using var trace = new TemporaryDirectory("trellis-strace-");
        var output = Path.Combine(trace.Path, "trace");
        var run = Run(nodePath, environment, config, ["strace", "-f", "-y", "-s", "96", "-o", output, "-e", "trace=%file,%desc,%network,setns", PluginNode.PluginPath]);
        if (run.ExitCode != 0) throw new InvalidOperationException($"the traced run failed: {run.StandardOutput} {run.StandardError}");

        var lines = File.ReadAllLines(output);
        var main = lines.Select(l => TraceLine().Match(l)).First(m => m.Success).Groups["pid"].Value;
        var counts = new Dictionary<string, int>();
        var result = new List<SyscallOccurrence>();
        bool started = false;
        foreach (var line in lines)
        {
            var match = TraceLine().Match(line);
            if (!match.Success || match.Groups["pid"].Value != main) continue;
            var name = match.Groups["name"].Value;
            counts[name] = counts.GetValueOrDefault(name) + 1;
            started |= line.Contains(startMarker, StringComparison.Ordinal);
            if (started && !Ignored.Contains(name)) result.Add(new SyscallOccurrence(name, counts[name], line));
        }
        if (result.Count == 0) throw new InvalidOperationException($"no system call mentions {startMarker}");
        return result;
    }

    /// <summary>Runs the plugin with <paramref name="fault"/> ("signal=KILL", "error=ENOSPC") injected at <paramref name="point"/>.</summary>
    public static InjectedRun RunInjected(string nodePath, IDictionary<string, string> environment, string config, SyscallOccurrence point, string fault)
    {
        using var trace = new TemporaryDirectory("trellis-strace-");
        var output = Path.Combine(trace.Path, "trace");
        var run = Run(nodePath, environment, config,
        [
            // Not --seccomp-bpf: with it strace 6.1 skips occurrences when counting for when=.
            "strace", "-f", "-o", output, "-e", $"trace={point.Name}",
            "-e", $"inject={point.Name}:{fault}:when={point.Occurrence}", PluginNode.PluginPath,
        ]);
        var traced = File.Exists(output) ? File.ReadAllText(output) : "";
        return new InjectedRun(run, traced.Contains("killed by SIGKILL", StringComparison.Ordinal), traced.Contains("(INJECTED)", StringComparison.Ordinal));
    }

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

/// <summary>An injected run: the plugin's exit, and whether strace saw it killed or injected an error.</summary>
public sealed record InjectedRun(PluginRun Run, bool Killed, bool Injected);
