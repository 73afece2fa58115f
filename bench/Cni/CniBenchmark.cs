using System.Diagnostics;
using System.Globalization;
using Trellis.Testing;

namespace Trellis.Bench.Cni;

/// <summary>
/// Suite "cni": ADD+DEL latency and 8-way parallel ADD throughput of trellis-cni beside the
/// reference bridge + host-local, both exec'd the way a runtime does, each on its own node
/// namespace, with rounds interleaved so drift on the machine lands on both alike.
/// Options: --rounds N (latency samples, default 100), --parallel-pods N (default 64).
/// </summary>
public static class CniBenchmark
{
    private const string ReferenceDirectory = "/usr/lib/cni";
    private const int WarmUpRounds = 5;
    private const int Parallelism = 8;
    private const int ParallelRepetitions = 2;
    private const double Bar = 0.7;

    public static Task<int> RunAsync(string[] args, string resultsDirectory)
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Console.Error.WriteLine("cni: run as root (the suite creates network namespaces)");
            return Task.FromResult(1);
        }
        try
        {
            var rounds = Option(args, "--rounds", 100);
            if (rounds < 50) throw new ArgumentException($"--rounds {rounds}: the p99 needs at least 50 samples");
            return Task.FromResult(Measure(rounds, Option(args, "--parallel-pods", 64), resultsDirectory));
        }
        catch (Exception failure) when (failure is ArgumentException or InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"cni: {failure.Message}");
            return Task.FromResult(1);
        }
    }

    private static int Measure(int rounds, int parallelPods, string resultsDirectory)
    {
        using var trellis = CniPluginUnderTest.Trellis(RepositoryRoot.CniPluginPath, parallelPods);
        using var reference = CniPluginUnderTest.ReferenceBridge(ReferenceDirectory, parallelPods);
        CniPluginUnderTest[] plugins = [trellis, reference];
        foreach (var plugin in plugins) plugin.VerifyChildrenInheritNodeNamespace();

        var samples = plugins.ToDictionary(p => p, _ => new LatencySamples());
        for (var round = 0; round < WarmUpRounds + rounds; round++)
        {
            foreach (var plugin in round % 2 == 0 ? plugins : plugins.Reverse())
            {
                var (add, del) = AddThenDelete(plugin, plugin.Pods[round % plugin.Pods.Count]);
                if (round >= WarmUpRounds) samples[plugin].Record(add, del);
            }
        }

        var throughput = plugins.ToDictionary(p => p, _ => TimeSpan.Zero);
        for (var repetition = 0; repetition < ParallelRepetitions; repetition++)
            foreach (var plugin in repetition % 2 == 0 ? plugins : plugins.Reverse())
                throughput[plugin] += ParallelAdds(plugin);

        var t = samples[trellis];
        var r = samples[reference];
        double PodsPerSecond(CniPluginUnderTest p) => parallelPods * ParallelRepetitions / throughput[p].TotalSeconds;
        double TotalMs(CniPluginUnderTest p) => throughput[p].TotalMilliseconds / ParallelRepetitions;
        BenchReport.Write("cni", "bridge+host-local (containernetworking-plugins, Debian)",
        [
            new BenchMetric("add+del median", t.AddDelete.Median, r.AddDelete.Median, "ms"),
            new BenchMetric("add+del p99", t.AddDelete.Percentile(99), r.AddDelete.Percentile(99), "ms"),
            new BenchMetric("add median", t.Add.Median, r.Add.Median, "ms"),
            new BenchMetric("del median", t.Delete.Median, r.Delete.Median, "ms"),
            new BenchMetric($"parallel-{Parallelism} throughput", PodsPerSecond(trellis), PodsPerSecond(reference), "pods/s"),
            new BenchMetric($"parallel-{Parallelism} {parallelPods} pods total", TotalMs(trellis), TotalMs(reference), "ms"),
        ], resultsDirectory);

        var ratio = t.AddDelete.Median / r.AddDelete.Median;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{rounds} ADD+DEL samples per plugin after {WarmUpRounds} warm-up; parallel: {ParallelRepetitions} x {parallelPods} pods, {Parallelism} at a time"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bar (trellis median ADD+DEL <= {Bar} x reference): {(ratio <= Bar ? "met" : "NOT met")} (ratio {ratio:0.000})"));
        return 0;
    }

    private static (TimeSpan Add, TimeSpan Delete) AddThenDelete(CniPluginUnderTest plugin, NetworkNamespace pod) =>
        plugin.OnNode(() =>
        {
            var id = plugin.NextContainerId();
            var add = plugin.Exec("ADD", id, pod);
            var del = plugin.Exec("DEL", id, pod);
            return (add, del);
        });

    /// <summary>Time for every pod to be ADDed by <see cref="Parallelism"/> workers; the DELs afterwards are not timed.</summary>
    private static TimeSpan ParallelAdds(CniPluginUnderTest plugin)
    {
        var containers = plugin.Pods.Select(pod => (Id: plugin.NextContainerId(), Pod: pod)).ToArray();
        var elapsed = Stopwatch.StartNew();
        RunOnWorkers(plugin, containers, c => plugin.Exec("ADD", c.Id, c.Pod));
        elapsed.Stop();
        RunOnWorkers(plugin, containers, c => plugin.Exec("DEL", c.Id, c.Pod));
        return elapsed.Elapsed;
    }

    private static void RunOnWorkers(CniPluginUnderTest plugin, (string Id, NetworkNamespace Pod)[] containers,
        Action<(string Id, NetworkNamespace Pod)> exec)
    {
        var next = -1;
        var workers = Enumerable.Range(0, Parallelism).Select(_ => Task.Factory.StartNew(() => plugin.OnNode(() =>
        {
            for (var i = Interlocked.Increment(ref next); i < containers.Length; i = Interlocked.Increment(ref next))
                exec(containers[i]);
            return true;
        }), TaskCreationOptions.LongRunning)).ToArray();
        Task.WaitAll(workers);
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        if (index < 0) return fallback;
        if (index + 1 >= args.Length || !int.TryParse(args[index + 1], CultureInfo.InvariantCulture, out var value) || value <= 0)
            throw new ArgumentException($"{name} needs a positive whole number");
        return value;
    }
}
