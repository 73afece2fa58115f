using System.Diagnostics;
using Trellis.Cni.Wiring;
using Trellis.Ipam;
using Trellis.Linux;
using Trellis.Netlink;
using Trellis.Testing;
using Xunit;

namespace Trellis.Cni.Tests;

/// <summary>Many plugins at once on one node, and plugins killed halfway through ADD.</summary>
public sealed class ConcurrencyTests
{
    [Fact]
    public void HundredParallelAddsGiveDistinctAddressesThatAllAnswerAndHundredDelsLeaveNothing()
    {
        const int pods = 100;
        using var node = new PluginNode();
        var namespaces = new List<NetworkNamespace>();
        try
        {
            for (int i = 0; i < pods; i++) namespaces.Add(NetworkNamespace.Create($"p{i}"));
            var config = node.Config();

            var adds = namespaces.Select((ns, i) => node.Start(PluginNode.Environment("ADD", $"par{i}", ns.Path), config)).ToList();
            var results = adds.Select(PluginRun.From).ToList();
            var addresses = results.Select(r => Assert.Single(r.Addresses())).ToList();

            Assert.Equal(pods, addresses.Distinct().Count());
            Assert.Equal(pods, node.AllocationFiles().Count);
            for (int i = 0; i < pods; i++)
            {
                var address = addresses[i].Split('/')[0];
                Assert.Contains($"inet {addresses[i]}", namespaces[i].Exec("ip", "addr", "show", "eth0"));
                Assert.True(node.Namespace.Ping(address), $"pod {i} at {address} does not answer");
            }

            var dels = namespaces.Select((ns, i) => node.Start(PluginNode.Environment("DEL", $"par{i}", ns.Path), config)).ToList();
            foreach (var del in dels) PluginRun.From(del).Succeeded();

            Assert.Empty(node.AllocationFiles());
            Assert.Equal(["lo", "trellis0"], node.LinkNames());
        }
        finally
        {
            foreach (var ns in namespaces) ns.Dispose();
        }
    }

    [Fact]
    public void PluginsKilledMidAddNeverLeaveAnAddressWithTwoOwners()
    {
        const int attempts = 30;
        using var node = new PluginNode();
        var namespaces = new List<NetworkNamespace>();
        try
        {
            var config = node.Config("""[[{"subnet":"10.244.1.0/24"}],[{"subnet":"fd00:10:244:1::/64"}]]""");
            int killed = 0;
            for (int i = 0; i < attempts; i++)
            {
                var ns = NetworkNamespace.Create($"k{i}");
                namespaces.Add(ns);
                using var process = node.Start(PluginNode.Environment("ADD", $"killed{i}", ns.Path), config);
                // Delays spread from before the plugin starts to after it usually finishes.
                Thread.Sleep(TimeSpan.FromMilliseconds(i % 10 * 1.5));
                try
                {
                    process.Kill();
                }
                catch (InvalidOperationException)
                {
                }
                process.WaitForExit();
                if (process.ExitCode != 0) killed++;
                AssertNoAddressHeldTwice(node, namespaces, Enumerable.Range(0, namespaces.Count).Select(k => $"killed{k}").ToList());
            }

            Assert.True(killed > 0, "no plugin was killed before it finished; the test proved nothing");

            // A later ADD still works, next to whatever the killed ones left.
            using (var fresh = NetworkNamespace.Create("fresh"))
            {
                var addresses = node.Add("fresh", fresh, config).Addresses();
                var all = namespaces.Append(fresh).ToList();
                var ids = Enumerable.Range(0, attempts).Select(k => $"killed{k}").Append("fresh").ToList();
                AssertNoAddressHeldTwice(node, all, ids);
                Assert.True(node.Namespace.Ping(addresses[0].Split('/')[0]));
                Assert.True(node.Namespace.Run("ping", "-6", "-c", "1", "-W", "2", "-q", addresses[1].Split('/')[0]).Succeeded);
                node.Del("fresh", fresh.Path, config).Succeeded();
            }

            // The runtime answers a failed ADD with DEL; that cleans up every leftover.
            for (int i = 0; i < attempts; i++) node.Del($"killed{i}", namespaces[i].Path, config).Succeeded();
            Assert.Empty(node.AllocationFiles());
            Assert.Equal(["lo", "trellis0"], node.LinkNames());
        }
        finally
        {
            foreach (var ns in namespaces) ns.Dispose();
        }
    }

    public enum AddStage { Reserved, HostVethMade, PodAddressed }

    /// <summary>
    /// Kills land where they matter, not where a delay happens to put them: the test watches
    /// one ADD at a time and kills it the moment its reservation file, its host veth, or the
    /// first address on the pod's interface appears. A plugin that configured the pod before
    /// recording the address, or recorded it only at the end, fails here on every landed kill.
    /// </summary>
    [Theory]
    [InlineData(AddStage.Reserved)]
    [InlineData(AddStage.HostVethMade)]
    [InlineData(AddStage.PodAddressed)]
    public void APluginKilledAtAnyStageOfAddHasRecordedEveryAddressItGave(AddStage stage)
    {
        // The last stage is a few microseconds before the plugin exits, so most attempts finish
        // first; try until two kills land rather than a fixed few (stops early, about 40 ms a try).
        const int wantedKills = 2;
        const int maxAttempts = 100;
        using var node = new PluginNode();
        var namespaces = new List<NetworkNamespace>();
        var ids = new List<string>();
        try
        {
            var config = node.Config("""[[{"subnet":"10.244.1.0/24"}],[{"subnet":"fd00:10:244:1::/64"}]]""");
            using var nodeLinks = NetlinkHandle.OpenNamespace(node.Namespace.Path);
            int landed = 0;
            for (int i = 0; i < maxAttempts && landed < wantedKills; i++)
            {
                var ns = NetworkNamespace.Create($"s{i}");
                namespaces.Add(ns);
                ids.Add($"stage{i}");
                using var podLinks = NetlinkHandle.OpenNamespace(ns.Path);
                var filesBefore = node.AllocationFiles().Count;
                var hostName = HostInterface.Name(new Attachment(ids[i], "eth0"), 0);
                bool Reached() => stage switch
                {
                    AddStage.Reserved => node.AllocationFiles().Count > filesBefore,
                    AddStage.HostVethMade => nodeLinks.FindLink(hostName) is not null,
                    _ => podLinks.ListAddresses().Any(a => a.Scope == 0),
                };

                using var process = node.Start(PluginNode.Environment("ADD", ids[i], ns.Path), config);
                if (!RunUntil(process, Reached))
                {
                    // It finished before the stage was seen; it must have finished well.
                    PluginRun.From(process).Succeeded();
                    continue;
                }
                try
                {
                    process.Kill();
                }
                catch (InvalidOperationException)
                {
                }
                process.WaitForExit();
                if (process.ExitCode != 0)
                {
                    landed++;
                    Assert.Contains(node.Allocations(), a => a.Owner == new Attachment(ids[i], "eth0"));
                }
                AssertNoAddressHeldTwice(node, namespaces, ids);
            }
            Assert.True(landed == wantedKills, $"only {landed} of {maxAttempts} plugins were killed after reaching {stage}; the test proved too little");

            using (var fresh = NetworkNamespace.Create("fresh"))
            {
                node.Add("fresh", fresh, config).Succeeded();
                AssertNoAddressHeldTwice(node, namespaces.Append(fresh).ToList(), ids.Append("fresh").ToList());
                node.Del("fresh", fresh.Path, config).Succeeded();
            }
            for (int i = 0; i < namespaces.Count; i++) node.Del(ids[i], namespaces[i].Path, config).Succeeded();
            Assert.Empty(node.AllocationFiles());
            Assert.Equal(["lo", "trellis0"], node.LinkNames());
        }
        finally
        {
            foreach (var ns in namespaces) ns.Dispose();
        }
    }

    /// <summary>
    /// Lets <paramref name="process"/> run in slices of about 50 µs and looks at the world while
    /// it is stopped (SIGSTOP) in between, so no stage can slip by between two looks. True, with
    /// the process left stopped, once <paramref name="reached"/> holds; false when it exited first.
    /// </summary>
    private static bool RunUntil(Process process, Func<bool> reached)
    {
        try
        {
            while (true)
            {
                if (LibC.Kill(process.Id, LibC.SIGSTOP) != 0 || !WaitUntilStopped(process)) return false;
                if (reached()) return true;
                LibC.Kill(process.Id, LibC.SIGCONT);
                var until = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 20_000;
                while (Stopwatch.GetTimestamp() < until) Thread.SpinWait(10);
            }
        }
        catch
        {
            // A plugin left stopped would hold its lock and namespaces for ever.
            process.Kill();
            throw;
        }
    }

    /// <summary>Waits for the group stop to take hold; false when the process is gone or a zombie.</summary>
    private static bool WaitUntilStopped(Process process)
    {
        while (true)
        {
            string stat;
            try
            {
                stat = File.ReadAllText($"/proc/{process.Id}/stat");
            }
            catch (IOException)
            {
                return false;
            }
            var state = stat[(stat.LastIndexOf(')') + 2)..][0];
            if (state is 'T' or 't') return true;
            if (state is 'Z' or 'X' || process.HasExited) return false;
            Thread.SpinWait(20);
        }
    }

    /// <summary>
    /// No two pods carry the same address in the kernel, and every address a pod carries is
    /// recorded on disk as that pod's, so no later ADD can hand it out again.
    /// </summary>
    private static void AssertNoAddressHeldTwice(PluginNode node, IReadOnlyList<NetworkNamespace> pods, IReadOnlyList<string> containerIds)
    {
        var seen = new Dictionary<string, string>();
        for (int i = 0; i < pods.Count; i++)
        {
            var output = pods[i].Run("ip", "-o", "addr", "show", "scope", "global").StandardOutput;
            foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var address = line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3].Split('/')[0];
                Assert.False(seen.TryGetValue(address, out var other), $"{address} is on both {other} and {pods[i].Name}");
                seen[address] = pods[i].Name;
                var allocation = node.Allocations().FirstOrDefault(a => a.Address.ToString() == address);
                Assert.True(allocation is not null, $"{address} is on {pods[i].Name} but has no allocation file");
                Assert.Equal(new Attachment(containerIds[i], "eth0"), allocation.Owner);
            }
        }
    }
}
