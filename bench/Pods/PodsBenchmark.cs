using System.Diagnostics;
using System.Net;
using Trellis.Bench.Cni;
using Trellis.Local.Connectivity;
using Trellis.Local.Pods;
using Trellis.Testing;

namespace Trellis.Bench.Pods;

/// <summary>
/// Suite "pods": what the local cluster's pod servers and probes cost. N pod namespaces each get the
/// serve-hostname responders of the seed pods (80/TCP and 80/UDP), opened by a namespace-pinned thread
/// and served by async I/O in this one process; the anchor is a process per server (socat, as a
/// container per pod would be). Then every pod is probed over its loopback, TCP and UDP, many at once;
/// the anchor is a process per probe (ip netns exec socat, as `kubectl exec agnhost connect` is).
/// </summary>
public static class PodsBenchmark
{
    private const int DefaultPods = 200;
    private const int ReferencePods = 10;
    private const int ReferenceProbes = 40;

    public static async Task<int> RunAsync(string[] args, string resultsDirectory)
    {
        int pods = args.Length > 1 && args[0] == "--pods" ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : DefaultPods;
        var namespaces = new List<NetworkNamespace>();
        var responders = new List<PortResponders>();
        var socats = new List<Process>();
        try
        {
            for (int i = 0; i < pods; i++) namespaces.Add(NetworkNamespace.Create($"pod{i}"));
            ServedPort[] ports = [new(80, "TCP"), new(80, "UDP")];

            var self = Process.GetCurrentProcess();
            GC.Collect();
            self.Refresh();
            int threadsBefore = self.Threads.Count;
            long rssBefore = self.WorkingSet64;
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < pods; i++) responders.Add(PortResponders.Open(namespaces[i].Path, $"bench/pod{i}", ports));
            var openTime = clock.Elapsed;
            await Task.Delay(500);
            GC.Collect();
            self.Refresh();
            double threadsPerPod = (double)(self.Threads.Count - threadsBefore) / pods;
            double kilobytesPerPod = (self.WorkingSet64 - rssBefore) / 1024.0 / pods;
            Console.WriteLine($"{pods} pods × {ports.Length} servers opened in {openTime.TotalMilliseconds:0} ms; threads {threadsBefore} → {self.Threads.Count}, RSS +{(self.WorkingSet64 - rssBefore) / 1048576.0:0.0} MB");

            // The anchor: one socat listener per server, in the first pods' namespaces.
            for (int i = 0; i < ReferencePods; i++)
                foreach (var (port, listen) in new[] { (8080, "TCP-LISTEN:8080,fork,reuseaddr"), (8080, "UDP-RECVFROM:8080,fork") })
                    socats.Add(Process.Start(new ProcessStartInfo("ip", ["netns", "exec", namespaces[i].Name, "socat", listen, $"SYSTEM:echo bench/pod{i}"]) { RedirectStandardError = true })!);
            await Task.Delay(1000);
            double referenceKilobytesPerPod = socats.Sum(p => RssKilobytes(p.Id)) / (double)ReferencePods;
            Console.WriteLine($"reference: {socats.Count} socat listeners, {referenceKilobytesPerPod:0} KB per pod");

            var tcp = await ProbeAllAsync(namespaces, "TCP", TimeSpan.FromSeconds(2));
            var udp = await ProbeAllAsync(namespaces, "UDP", TimeSpan.FromSeconds(2));
            var reference = new Distribution();
            for (int i = 0; i < ReferenceProbes; i++)
            {
                var probe = Stopwatch.StartNew();
                var result = Shell.Run("ip", ["netns", "exec", namespaces[i % pods].Name, "socat", "-T1", "-", "TCP:127.0.0.1:80"], standardInput: "");
                if (result.StandardOutput != $"bench/pod{i % pods}") throw new InvalidOperationException($"reference probe got \"{result.StandardOutput}\" {result.StandardError}");
                reference.Add(probe.Elapsed);
            }
            Console.WriteLine($"probes: TCP {tcp.PerSecond:0}/s (p50 {tcp.Latency.Median:0.00} ms), UDP {udp.PerSecond:0}/s (p50 {udp.Latency.Median:0.00} ms); reference p50 {reference.Median:0.00} ms");

            BenchReport.Write("pods", "a process per server (socat listeners) and per probe (ip netns exec socat)",
            [
                new BenchMetric($"threads per pod ({pods} pods, 2 servers each)", threadsPerPod, 1, "threads"),
                new BenchMetric("memory per pod", kilobytesPerPod, referenceKilobytesPerPod, "KB"),
                new BenchMetric("open 2 servers in a pod's namespace", openTime.TotalMilliseconds / pods, null, "ms"),
                new BenchMetric("TCP probe, median", tcp.Latency.Median, reference.Median, "ms"),
                new BenchMetric("TCP probe, p99", tcp.Latency.Percentile(99), reference.Percentile(99), "ms"),
                new BenchMetric("UDP probe, median", udp.Latency.Median, null, "ms"),
                new BenchMetric("TCP probes per second (32 at once)", tcp.PerSecond, 1000 / reference.Median, "1/s"),
                new BenchMetric("UDP probes per second (32 at once)", udp.PerSecond, null, "1/s"),
            ], resultsDirectory);
            return 0;
        }
        finally
        {
            foreach (var socat in socats)
            {
                if (!socat.HasExited) socat.Kill(entireProcessTree: true);
                socat.WaitForExit();
            }
            foreach (var r in responders) await r.DisposeAsync();
            foreach (var ns in namespaces) ns.Dispose();
        }
    }

    private static async Task<(Distribution Latency, double PerSecond)> ProbeAllAsync(IReadOnlyList<NetworkNamespace> namespaces, string protocol, TimeSpan timeout)
    {
        var latency = new Distribution();
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, namespaces.Count), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) =>
        {
            var result = await PodProbe.ProbeAsync(namespaces[i].Path, IPAddress.Loopback, 80, protocol, timeout, ct);
            if (result.Detail != $"bench/pod{i}") throw new InvalidOperationException($"pod{i} {protocol}: {result}");
            lock (latency) latency.Add(result.Elapsed);
        });
        return (latency, namespaces.Count / clock.Elapsed.TotalSeconds);
    }

    /// <summary>Resident memory of a process and its children (ip netns exec execs socat in place), from /proc.</summary>
    private static long RssKilobytes(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
    }
}
