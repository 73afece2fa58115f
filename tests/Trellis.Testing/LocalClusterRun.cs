using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Trellis.Testing;

/// <summary>
/// One run of the published trellis-local with a state directory and namespace prefix of its
/// own, so runs never meet each other or a user's cluster; removed even when a test fails.
/// </summary>
public sealed class LocalClusterRun : IDisposable
{
    private static int s_counter;

    public string Prefix { get; } = $"t{Environment.ProcessId % 100000}x{Interlocked.Increment(ref s_counter)}";
    public string StateDirectory { get; }
    public string Binary { get; } = Path.Combine(RepositoryRoot.Find(), "out", "local", "trellis-local");
    public string Kubeconfig => Path.Combine(StateDirectory, "kubeconfig");

    public LocalClusterRun()
    {
        if (!File.Exists(Binary))
            throw new InvalidOperationException($"{Binary} is missing: run `bash scripts/build-artifacts.sh` first");
        StateDirectory = Path.Combine(Path.GetTempPath(), $"trellis-local-test-{Prefix}");
    }

    public IEnumerable<string> Common => ["--state-dir", StateDirectory, "--prefix", Prefix];

    public CommandResult Run(params string[] arguments) =>
        Shell.Run(Binary, arguments.Concat(Common), timeout: TimeSpan.FromMinutes(4));

    /// <summary>Starts `up` and returns once it says the cluster is up.</summary>
    public Process StartUp(params string[] arguments)
    {
        var info = new ProcessStartInfo(Binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "up" }.Concat(arguments).Concat(Common)) info.ArgumentList.Add(a);
        var process = Process.Start(info)!;
        var output = new System.Text.StringBuilder();
        var up = new TaskCompletionSource();
        process.OutputDataReceived += (_, e) =>
        {
            lock (output) output.AppendLine(e.Data);
            if (e.Data?.Contains("The cluster is up") == true) up.TrySetResult();
        };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.Exited += (_, _) => up.TrySetException(new InvalidOperationException($"trellis-local up exited {process.ExitCode}:\n{output}"));
        process.EnableRaisingEvents = true;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!up.Task.Wait(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            lock (output) throw new TimeoutException($"trellis-local up did not come up:\n{output}");
        }
        up.Task.GetAwaiter().GetResult();
        return process;
    }

    /// <summary>Stock kubectl against this run's cluster; throws with its error output when it fails.</summary>
    public string Kubectl(params string[] arguments)
    {
        var result = Shell.Run("kubectl", new[] { "--kubeconfig", Kubeconfig }.Concat(arguments), timeout: TimeSpan.FromMinutes(3));
        if (!result.Succeeded) throw new InvalidOperationException($"kubectl {string.Join(' ', arguments)} failed ({result.ExitCode}): {result.StandardError}{result.StandardOutput}");
        return result.StandardOutput;
    }

    /// <summary>What the API server of an `up` refused to the operator or an agent (trellis-local keeps one line each).</summary>
    public IReadOnlyList<string> RefusedRequests()
    {
        var log = Path.Combine(StateDirectory, "refused-requests.log");
        return File.Exists(log) ? File.ReadAllLines(log) : [];
    }

    /// <summary>Applies <paramref name="yaml"/> with kubectl (with validation on: the server serves OpenAPI).</summary>
    public string Apply(string yaml)
    {
        var file = Path.Combine(Path.GetTempPath(), $"trellis-apply-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(file, yaml);
        try { return Kubectl("apply", "-f", file); }
        finally { File.Delete(file); }
    }

    /// <summary>Every address a node's IPAM holds, in order: the plugin keeps one file per address in use, named by it.</summary>
    public IReadOnlyList<string> IpamAddresses(string node) =>
        Directory.EnumerateFiles(Path.Combine(StateDirectory, "nodes", node, "lib"), "*", SearchOption.AllDirectories)
            .Select(Path.GetFileName).OfType<string>().Where(f => System.Net.IPAddress.TryParse(f, out _)).Order().ToList();

    public IReadOnlyList<string> LeftoverNamespaces() =>
        Shell.Run("ip", "netns", "list").StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ')[0]).Where(n => n.StartsWith(Prefix + "-", StringComparison.Ordinal)).ToList();

    /// <summary>
    /// Processes started for this run: agents carry the state directory, or a path under it, as one argument.
    /// A substring match would also take another run's: "…-t12x1" is the start of "…-t12x10", and killing that
    /// run's `up` mid-start is how a parallel test once died with SIGKILL.
    /// </summary>
    public IReadOnlyList<int> LeftoverProcesses() =>
        Directory.EnumerateDirectories("/proc").Select(d => int.TryParse(Path.GetFileName(d), out int pid) ? pid : 0)
            .Where(pid => pid > 0 && pid != Environment.ProcessId && ReadCommandLine(pid).Split('\0').Any(IsStateDirectoryOrUnderIt))
            .ToList();

    /// <summary>"DIR", "DIR/x", "--flag=DIR/x", "DIR/x:DIR/x:ro", but not "DIR0".</summary>
    private bool IsStateDirectoryOrUnderIt(string argument) =>
        System.Text.RegularExpressions.Regex.IsMatch(argument, $"(^|[=:]){System.Text.RegularExpressions.Regex.Escape(StateDirectory)}($|[/:])");

    /// <summary>
    /// Threads of <paramref name="process"/> in a network namespace other than the process's own, but for
    /// the short-lived "netns" threads made to work inside one: a runtime thread born in a namespace
    /// (the socket engine's, a thread-pool worker) sends its later connections there.
    /// </summary>
    public static IReadOnlyList<string> ThreadsAwayFromHome(Process process)
    {
        var home = new FileInfo($"/proc/{process.Id}/ns/net").LinkTarget;
        var away = new List<string>();
        foreach (var task in Directory.EnumerateDirectories($"/proc/{process.Id}/task"))
        {
            try
            {
                var name = File.ReadAllText(Path.Combine(task, "comm")).Trim();
                var where = new FileInfo(Path.Combine(task, "ns", "net")).LinkTarget;
                if (where != home && name != "netns") away.Add($"thread {Path.GetFileName(task)} \"{name}\" in {where}, the process in {home}");
            }
            catch (IOException) { } // the thread ended while we looked
        }
        return away;
    }

    private static string ReadCommandLine(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/cmdline"); }
        catch (IOException) { return ""; }
        catch (UnauthorizedAccessException) { return ""; }
    }

    /// <summary>Polls <paramref name="condition"/> until it holds, or fails saying what never became true.</summary>
    public static void Eventually(Func<bool> condition, string what, int seconds = 90)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out after {seconds}s waiting until {what}");
            Thread.Sleep(250);
        }
    }

    public static JsonObject ParseJson(CommandResult result) =>
        JsonNode.Parse(result.StandardOutput) as JsonObject
            ?? throw new InvalidOperationException($"not JSON: {result.StandardOutput}\n{result.StandardError}");

    public void Dispose()
    {
        Shell.Run(Binary, new[] { "down" }.Concat(Common));
        foreach (var pid in LeftoverProcesses()) Shell.Run("kill", "-9", pid.ToString());
        foreach (var ns in LeftoverNamespaces()) Shell.Run("ip", "netns", "del", ns);
        if (Directory.Exists(StateDirectory)) Directory.Delete(StateDirectory, recursive: true);
    }
}
