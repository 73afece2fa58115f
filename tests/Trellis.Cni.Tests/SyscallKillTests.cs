using System.Collections.Concurrent;
using System.Net;
using Trellis.Ipam;
using Trellis.Linux;
using Trellis.Netlink;
using Trellis.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Trellis.Cni.Tests;

/// <summary>
/// Issue 8's first promise, tried at every system call: trellis-cni is killed (SIGKILL through
/// Debian's strace, <c>-e inject=SYSCALL:signal=KILL:when=N</c>) at each occurrence of each
/// file, descriptor and netlink call of one dual-stack ADD. The runtime then reacts one of the
/// two ways runtimes do (retry the same ADD; or DEL it and ADD a new sandbox), a small range is
/// churned until full so freed addresses are handed out again, and then: no address is on two
/// live pods, every address a pod carries is recorded as that pod's, no file in the store has
/// two names, and after DEL of everything nothing is left. Both worlds an ADD meets are tried:
/// a fresh node (no bridge, no store) and a busy one (a neighbour pod already there).
/// </summary>
public sealed class SyscallKillTests(ITestOutputHelper output)
{
    public enum World { Fresh, Busy }

    public enum Reaction { RetrySameAdd, DelThenNewSandbox }

    /// <summary>/29: five pod addresses; /125: six. Small, so churn reuses freed ones.</summary>
    private const string Ranges = """[[{"subnet":"10.244.1.0/29"}],[{"subnet":"fd00:10:244:1::/125"}]]""";
    private const int Capacity = 5;
    private const int Workers = 3;

    [Theory]
    [InlineData(World.Fresh)]
    [InlineData(World.Busy)]
    public void AKillAtAnySystemCallOfAddNeverLeavesAnAddressOnTwoPods(World world)
    {
        var workers = Enumerable.Range(0, Workers).Select(_ => new KillWorld(world)).ToList();
        // Namespaces come and go meanwhile, as other tests' do, so the runtime's start-up reads of
        // /proc/self/mountinfo vary in number from run to run: the kills must still meet their calls.
        using var churn = new NamespaceChurn();
        try
        {
            var points = workers[0].EnumerateAdd();
            Assert.Contains(points, p => p.Name == "linkat" || p.Name == "link");
            Assert.Contains(points, p => p.Name == "sendto" || p.Name == "sendmsg");

            var cases = new ConcurrentQueue<(SyscallOccurrence Point, Reaction Reaction)>(
                points.SelectMany(p => new[] { (p, Reaction.RetrySameAdd), (p, Reaction.DelThenNewSandbox) }));
            var failures = new ConcurrentBag<string>();
            var notKilled = new ConcurrentBag<string>();
            var runs = 0;
            Parallel.ForEach(workers, new ParallelOptions { MaxDegreeOfParallelism = Workers }, worker =>
            {
                while (cases.TryDequeue(out var next))
                {
                    try
                    {
                        var run = SyscallInjection.UntilAtRequestedCall(next.Point, worker.FirstGuess(next.Point), when =>
                        {
                            Interlocked.Increment(ref runs);
                            return worker.RunCase(next.Point, when, next.Reaction);
                        });
                        if (!(run.Killed && run.AtRequestedCall)) notKilled.Add($"{next.Point} (last run: when={run.When}, killed={run.Killed}, would have met it at {run.CorrectedWhen?.ToString() ?? "no start seen"})");
                    }
                    catch (Exception e)
                    {
                        failures.Add($"kill at {next.Point}, then {next.Reaction}: {e.Message}");
                        // The world may be in any state now; start the next case from a clean one.
                        worker.Rebuild();
                    }
                }
            });
            // As many runs as cases when every first guess meets its call; each run more is a guess the drift spoiled.
            output.WriteLine($"{world} node: {points.Count} system calls killed at, each with both reactions, in {runs} runs");
            Assert.True(failures.IsEmpty, $"{failures.Count} of {points.Count * 2} cases failed:\n{string.Join("\n", failures.Take(10))}");
            Assert.True(notKilled.IsEmpty, $"no kill met these enumerated calls (the ADD's calls are not deterministic):\n{string.Join("\n", notKilled.Distinct().Take(10))}");
        }
        finally
        {
            foreach (var worker in workers) worker.Dispose();
        }
    }

    /// <summary>Creates and removes network namespaces (bind mounts under /run/netns) in the background until disposed.</summary>
    private sealed class NamespaceChurn : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;

        public NamespaceChurn() => _loop = Task.Run(() =>
        {
            var random = new Random(8);
            while (!_stop.IsCancellationRequested)
            {
                var namespaces = Enumerable.Range(0, random.Next(1, 12)).Select(_ => NetworkNamespace.Create("churn")).ToList();
                Thread.Sleep(random.Next(50, 300));
                foreach (var ns in namespaces) ns.Dispose();
            }
        });

        public void Dispose()
        {
            _stop.Cancel();
            _loop.Wait();
            _stop.Dispose();
        }
    }

    /// <summary>One node with its own pods and store; cases run on it one after another, each from the same start.</summary>
    /// <remarks>
    /// A kill leaves the page cache as it was, so the store lives on tmpfs here, where the fsyncs
    /// that only a power cut needs (DurabilityTests checks them) cost nothing over hundreds of ADDs.
    /// </remarks>
    private sealed class KillWorld(World world) : IDisposable
    {
        private const string Victim = "victim";
        private readonly List<NetworkNamespace> _pods = Enumerable.Range(0, 8).Select(i => NetworkNamespace.Create($"kill{i}")).ToList();
        private PluginNode _node = new(memoryBackedData: true);

        private NetworkNamespace VictimPod => _pods[0];
        private NetworkNamespace ReplacementPod => _pods[1];
        private NetworkNamespace NeighbourPod => _pods[2];
        private IEnumerable<NetworkNamespace> ChurnPods => _pods.Skip(3);

        private string Config => _node.Config(Ranges);

        public IReadOnlyList<SyscallOccurrence> EnumerateAdd()
        {
            var live = Start();
            var points = SyscallInjection.Enumerate(_node.Namespace.Path, PluginNode.Environment("ADD", Victim, VictimPod.Path), Config);
            live[Victim] = VictimPod;
            Finish(live);
            return points;
        }

        /// <summary>How far each call's count from the process's start has drifted from the enumeration's, as the last case saw it.</summary>
        private readonly Dictionary<string, int> _drift = [];

        public int FirstGuess(SyscallOccurrence point) => point.Occurrence + _drift.GetValueOrDefault(point.Name);

        /// <summary>One kill at the <paramref name="when"/>-th call of the point's name, one reaction, and the checks.</summary>
        public InjectedRun RunCase(SyscallOccurrence point, int when, Reaction reaction)
        {
            var live = Start();
            var injected = SyscallInjection.RunInjected(_node.Namespace.Path, PluginNode.Environment("ADD", Victim, VictimPod.Path), Config, point, "signal=KILL", when);
            if (injected.CorrectedWhen is { } corrected) _drift[point.Name] = corrected - point.Occurrence;
            if (!injected.Killed && injected.Run.ExitCode != 0)
                throw new InvalidOperationException($"the ADD was neither killed nor successful: {injected.Run.StandardOutput} {injected.Run.StandardError}");

            if (reaction == Reaction.RetrySameAdd)
            {
                Add(Victim, VictimPod);
                live[Victim] = VictimPod;
            }
            else
            {
                Del(Victim, VictimPod);
                Assert.Equal(["lo"], LinkNames(VictimPod));
                Add("replacement", ReplacementPod);
                live["replacement"] = ReplacementPod;
            }

            // Churn: one pod comes and goes, then pods fill the range, so every freed address is given
            // again; an address leaked by the kill would make the range run out before it is full.
            var churn = ChurnPods.ToList();
            Add("churn0", churn[0]);
            Del("churn0", churn[0]);
            for (int i = 1; live.Count < Capacity; i++)
            {
                Add($"churn{i}", churn[i]);
                live[$"churn{i}"] = churn[i];
            }
            AssertNoAddressOnTwoPods(live);
            AssertEveryStoreFileHasOneName();
            Finish(live);
            return injected;
        }

        /// <summary>The world a case starts from: nothing for a fresh node, the neighbour pod for a busy one.</summary>
        private Dictionary<string, NetworkNamespace> Start()
        {
            var live = new Dictionary<string, NetworkNamespace>();
            if (world == World.Busy)
            {
                Add("neighbour", NeighbourPod);
                live["neighbour"] = NeighbourPod;
            }
            return live;
        }

        /// <summary>DEL of everything leaves nothing: no allocation, no veth, no pod interface; a fresh world also loses its bridge and store.</summary>
        private void Finish(Dictionary<string, NetworkNamespace> live)
        {
            foreach (var (id, pod) in live) Del(id, pod);
            Del(Victim, VictimPod);
            Assert.Empty(_node.AllocationFiles());
            Assert.Equal(["lo", "trellis0"], LinkNames(_node.Namespace));
            foreach (var pod in _pods) Assert.Equal(["lo"], LinkNames(pod));
            if (world == World.Fresh)
            {
                using (var links = NetlinkHandle.OpenNamespace(_node.Namespace.Path))
                    links.DeleteLink(links.GetLink("trellis0"));
                Directory.Delete(_node.DataDir, recursive: true);
                Directory.CreateDirectory(_node.DataDir);
            }
        }

        public void Rebuild()
        {
            _node.Dispose();
            foreach (var pod in _pods) foreach (var link in PluginNode.LinkNamesIn(pod).Where(l => l != "lo")) pod.Run("ip", "link", "del", link);
            _node = new PluginNode(memoryBackedData: true);
        }

        private void AssertNoAddressOnTwoPods(Dictionary<string, NetworkNamespace> live)
        {
            var allocations = _node.Allocations();
            var seen = new Dictionary<IPAddress, string>();
            foreach (var (id, pod) in live)
            {
                using var links = NetlinkHandle.OpenNamespace(pod.Path);
                var addresses = links.ListAddresses().Where(a => a.Scope == 0).Select(a => a.Prefix.Address).ToList();
                Assert.True(addresses.Count == 2, $"pod {id} carries {addresses.Count} global addresses, not one per family");
                foreach (var address in addresses)
                {
                    Assert.False(seen.TryGetValue(address, out var other), $"{address} is on both {other} and {id}");
                    seen[address] = id;
                    var record = allocations.FirstOrDefault(a => a.Address.Equals(address));
                    Assert.True(record?.Owner == new Attachment(id, "eth0"), $"{address} is on {id} but recorded as {record?.Owner?.ToString() ?? "nobody's"}");
                }
            }
        }

        private void AssertEveryStoreFileHasOneName()
        {
            foreach (var path in Directory.EnumerateFiles(_node.StoreDir))
            {
                using var file = FileDescriptor.Open(path, OpenFlags.ReadOnly | OpenFlags.NoFollow | OpenFlags.NonBlocking);
                var links = file.Status().LinkCount;
                Assert.True(links == 1, $"{path} has {links} names");
            }
        }

        /// <summary>Through netlink rather than `ip`: a case looks at eight namespaces, hundreds of times.</summary>
        private static IReadOnlyList<string> LinkNames(NetworkNamespace ns)
        {
            using var links = NetlinkHandle.OpenNamespace(ns.Path);
            return links.ListLinks().OrderBy(l => l.Index).Select(l => l.Name).ToList();
        }

        private void Add(string id, NetworkNamespace pod) => Run("ADD", id, pod).Succeeded();

        private void Del(string id, NetworkNamespace pod) => Run("DEL", id, pod).Succeeded();

        private PluginRun Run(string verb, string id, NetworkNamespace pod) =>
            SyscallInjection.Run(_node.Namespace.Path, PluginNode.Environment(verb, id, pod.Path), Config, [PluginNode.PluginPath]);

        public void Dispose()
        {
            _node.Dispose();
            foreach (var pod in _pods) pod.Dispose();
        }
    }
}
