using System.Diagnostics;

namespace Trellis.Local.Containers;

/// <summary>
/// How trellis-local runs the images scripts/images.sh builds: Debian's podman, as root, with the
/// flags these machines need. Their cgroups are a v1/v2 hybrid, which crun refuses and runc accepts;
/// there is no systemd to manage cgroups; the default limits exceed what the machine grants.
/// </summary>
public static class Podman
{
    public const string Program = "podman";

    public static readonly IReadOnlyList<string> GlobalArguments = ["--cgroup-manager=cgroupfs", "--runtime=runc"];

    /// <summary>Arguments every `podman run` carries.</summary>
    public static readonly IReadOnlyList<string> RunArguments = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "--pull=never"];

    /// <summary>The label on every container a local cluster starts; its value is the cluster's prefix.</summary>
    public const string ClusterLabel = "io.trellis.local.prefix";

    private static readonly Lazy<string?> s_problem = new(FindProblem);

    /// <summary>Why containers cannot run here, in words a user can act on; null when they can.</summary>
    public static string? Problem => s_problem.Value;

    public static PodmanResult Run(IEnumerable<string> arguments, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo(Program) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var argument in GlobalArguments.Concat(arguments)) info.ArgumentList.Add(argument);
        using var process = Process.Start(info) ?? throw new InvalidOperationException("cannot start podman");
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout ?? TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"podman {string.Join(' ', arguments)} did not finish in time");
        }
        process.WaitForExit();
        return new PodmanResult(process.ExitCode, output.Result, error.Result);
    }

    /// <summary>Runs podman and returns its output; throws with podman's own words when it fails.</summary>
    public static string RunChecked(IEnumerable<string> arguments, TimeSpan? timeout = null)
    {
        var list = arguments.ToList();
        var result = Run(list, timeout);
        if (result.ExitCode != 0)
            throw new PodmanException($"podman {string.Join(' ', list)} exited {result.ExitCode}: {result.StandardError.Trim()}");
        return result.StandardOutput;
    }

    /// <summary>Whether <paramref name="image"/> is in the local store.</summary>
    public static bool HasImage(string image) => Run(["image", "exists", image]).ExitCode == 0;

    /// <summary>Removes every container labelled with this cluster's prefix, running or not; returns how many.</summary>
    public static int RemoveClusterContainers(string prefix)
    {
        if (Problem is not null) return 0;
        var ids = RunChecked(["ps", "--all", "--quiet", "--filter", $"label={ClusterLabel}={prefix}"])
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (ids.Length > 0) RunChecked(["rm", "--force", "--time", "5", .. ids]);
        return ids.Length;
    }

    private static string? FindProblem()
    {
        var path = Environment.GetEnvironmentVariable("PATH")?.Split(':') ?? [];
        if (!path.Any(d => File.Exists(Path.Combine(d, Program)))) return "podman is not installed (Debian package podman; scripts/install-deps.sh)";
        if (!path.Any(d => File.Exists(Path.Combine(d, "runc")))) return "runc is not installed (Debian package runc; scripts/install-deps.sh)";
        try
        {
            var info = Run(["info", "--format", "{{.Host.OCIRuntime.Name}}"], TimeSpan.FromSeconds(60));
            return info.ExitCode == 0 ? null : $"podman info fails: {info.StandardError.Trim()}";
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or TimeoutException)
        {
            return $"podman cannot run: {e.Message}";
        }
    }
}

public sealed record PodmanResult(int ExitCode, string StandardOutput, string StandardError);

public sealed class PodmanException(string message) : Exception(message);
