using System.Diagnostics;
using System.Net;
using Trellis.Addressing;
using Trellis.Testing;

namespace Trellis.Bgp.Tests.Interop;

/// <summary>A neighbour as the router is configured to see it.</summary>
public sealed record RouterNeighbor(IPAddress Address, uint Asn, string? Password = null);

/// <summary>The router's side of a test: its AS, identity and neighbours; it accepts the pod ranges (and nothing else) from them.</summary>
public sealed record RouterSetup(uint Asn, IPAddress RouterId, IReadOnlyList<RouterNeighbor> Neighbors)
{
    public static readonly Cidr PodRangeV4 = Cidr.Parse("10.244.0.0/16");
    public static readonly Cidr PodRangeV6 = Cidr.Parse("fd00:10:244::/56");
}

/// <summary>A route the router learned, as its own tools print it.</summary>
public sealed record LearnedRoute(Cidr Prefix, IPAddress NextHop, bool Stale);

/// <summary>
/// A routing daemon from Debian run in a test's router namespace, with its config, sockets and
/// pid files in its own temporary directory (never /etc or /run of the machine), in the
/// foreground so the test owns its process; disposing stops it even when the test failed.
/// </summary>
public abstract class RouterDaemon : IDisposable
{
    private static int s_counter;
    private readonly List<Process> _processes = [];

    protected RouterDaemon(NetworkNamespace ns, RouterSetup setup)
    {
        Namespace = ns;
        Setup = setup;
        Directory = System.IO.Directory.CreateTempSubdirectory($"trellis-bgp-{Environment.ProcessId}-{Interlocked.Increment(ref s_counter)}-").FullName;
    }

    public NetworkNamespace Namespace { get; }

    public RouterSetup Setup { get; protected set; }

    protected string Directory { get; }

    public abstract string Name { get; }

    /// <summary>Writes the configuration for <see cref="Setup"/> and starts the daemon, returning once it answers its control socket.</summary>
    public void Start()
    {
        WriteConfiguration();
        Launch();
        Eventually.True(() => !_processes.Any(p => p.HasExited) ? IsAnswering()
                : throw new Xunit.Sdk.XunitException($"{Name} exited in {Namespace.Name}: {Log()}"),
            TimeSpan.FromSeconds(20), () => $"{Name} answering in {Namespace.Name} ({Log()})");
    }

    public void Stop()
    {
        foreach (var process in _processes)
        {
            if (process.HasExited) continue;
            Shell.Run("kill", "-TERM", process.Id.ToString());
            if (!process.WaitForExit(5000)) process.Kill();
            process.WaitForExit();
        }
        _processes.Clear();
    }

    public void Restart(RouterSetup? setup = null)
    {
        Stop();
        if (setup is not null) Setup = setup;
        Start();
    }

    /// <summary>Whether <see cref="Routes"/> can tell a stale route (kept through a peer's graceful restart).</summary>
    public virtual bool ShowsStale => true;

    /// <summary>Every route the daemon learned from BGP, both families.</summary>
    public abstract IReadOnlyList<LearnedRoute> Routes();

    /// <summary>The session state the daemon reports for <paramref name="neighbor"/> ("Established", "Active"...).</summary>
    public abstract string NeighborState(IPAddress neighbor);

    public void Dispose()
    {
        Stop();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
        GC.SuppressFinalize(this);
    }

    protected abstract void WriteConfiguration();

    protected abstract void Launch();

    protected abstract bool IsAnswering();

    /// <summary>The tail of the daemon's own log, for failure messages.</summary>
    protected virtual string Log() => "";

    protected void Spawn(string file, params string[] arguments)
    {
        var info = new ProcessStartInfo("ip") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "netns", "exec", Namespace.Name, file }.Concat(arguments)) info.ArgumentList.Add(argument);
        var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {file}");
        var output = Path.Combine(Directory, Path.GetFileName(file) + ".out");
        process.OutputDataReceived += (_, line) => { if (line.Data is not null) AppendLine(output, line.Data); };
        process.ErrorDataReceived += (_, line) => { if (line.Data is not null) AppendLine(output, line.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes.Add(process);
    }

    protected string Exec(string file, params string[] arguments) => Namespace.Exec(file, arguments);

    protected string Tail(string file, int lines = 15)
    {
        var path = Path.Combine(Directory, file);
        return File.Exists(path) ? string.Join(" | ", File.ReadLines(path).TakeLast(lines)) : $"no {file}";
    }

    private static void AppendLine(string path, string line)
    {
        lock (typeof(RouterDaemon)) File.AppendAllText(path, line + "\n");
    }
}

public static class Eventually
{
    /// <summary>Polls until <paramref name="condition"/> holds, or fails with what was last seen.</summary>
    public static void True(Func<bool> condition, TimeSpan within, Func<string> describe)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if (condition()) return;
            }
            catch (InvalidOperationException) when (deadline.Elapsed < within)
            {
            }
            if (deadline.Elapsed > within) throw new Xunit.Sdk.XunitException($"not within {within.TotalSeconds} s: {describe()}");
            Thread.Sleep(200);
        }
    }
}
