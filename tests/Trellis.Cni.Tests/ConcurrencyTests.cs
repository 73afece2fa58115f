using System.Diagnostics;
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
                var file = Path.Combine(node.StoreDir, address);
                Assert.True(File.Exists(file), $"{address} is on {pods[i].Name} but has no allocation file");
                Assert.Equal($"{containerIds[i]}\neth0", File.ReadAllText(file));
            }
        }
    }
}
