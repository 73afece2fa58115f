using System.Diagnostics;
using System.Net.Sockets;
using k8s;
using Trellis.Local.Connectivity;
using Trellis.NetworkPolicy.Facts;
using Trellis.NetworkPolicy.Tests.Kernel;
using Trellis.NetworkPolicy.Tests.Model;
using Trellis.Testing;
using Xunit.Abstractions;
using static Trellis.NetworkPolicy.Tests.Model.PolicyObjects;

namespace Trellis.NetworkPolicy.Tests.EndToEnd;

/// <summary>One local cluster at a time: each is three agents, three kubelets and nine pods.</summary>
[CollectionDefinition(Name)]
public sealed class PolicyClusterCollection
{
    public const string Name = "policy clusters";
}

/// <summary>Plays upstream cases and random policies against a local cluster: each step through the API, each check as a truth table of all nine pods.</summary>
public static class EndToEndCases
{
    /// <summary>
    /// The cases the clusters of the other routing modes run: every kind of peer (pod, namespace,
    /// both, ipBlock with except), port (number, name, range), protocol and change (label, update, deletion).
    /// </summary>
    public static readonly string[] Selection =
    [
        "should support a 'default-deny-all' policy",
        "should enforce policy based on PodSelector and NamespaceSelector",
        "should enforce multiple, stacked policies with overlapping podSelectors",
        "should allow ingress access from namespace on one named port",
        "should allow egress access on one named port",
        "should allow ingress access from updated pod",
        "should support denying of egress traffic on the client side (even if the server explicitly allows this traffic)",
        "should ensure an IP overlapping both IPBlock.CIDR and IPBlock.Except is allowed",
        "should stop enforcing policies after they are deleted",
        "UDP: should enforce policy based on Ports",
        "(Trellis) should allow egress on a port range with endPort over UDP only",
    ];

    /// <summary>Seeds of <see cref="RandomPolicies"/> played in a cluster (the kernel lab and the simulator play many more).</summary>
    public static readonly int[] RandomSeeds = [7919, 15838, 23757];

    public static bool ProbesSctp(UpstreamCase testCase) => testCase.Steps.OfType<Check>().Any(c => c.Protocol == "SCTP");

    public static async Task RunAsync(PolicyCluster cluster, string name, ITestOutputHelper output)
    {
        var testCase = UpstreamCases.All.Single(c => c.Name == name);
        var failures = new List<string>();
        int step = 0;
        var clock = Stopwatch.StartNew();
        await CaseRunner.RunAsync(testCase, cluster.State, async (check, expected) =>
        {
            step++;
            await cluster.SyncAsync();
            var problem = await ClusterTruthTable.CompareAsync(cluster, UpstreamModel.PodKeys, check.Port, check.Protocol, expected);
            if (problem is not null) failures.Add($"check {step}, {problem}");
        });
        output.WriteLine($"{step} checks in {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <summary>
    /// One seed of random policies and labels (selectors, ipBlocks around the pods' real addresses,
    /// ports by number, name and range) made true in the API; every pair of the nine pods, TCP and
    /// UDP on both ports, against the reference evaluator.
    /// </summary>
    public static async Task RunRandomAsync(PolicyCluster cluster, int seed, ITestOutputHelper output)
    {
        RandomPolicies.Apply(cluster.State, seed);
        var state = cluster.State;
        var denied = (from protocol in new[] { TransportProtocol.Tcp, TransportProtocol.Udp }
                      from port in UpstreamModel.ServedPorts
                      from f in state.Pods
                      from t in state.Pods
                      where f != t && !state.Expect(f, t, AddressFamily.InterNetwork, port, protocol)
                      select 1).Count();
        // A seed whose policies allow everything, or nothing, would prove little.
        Assert.InRange(denied, 1, 4 * 72 - 1);
        await cluster.SyncAsync();
        var clock = Stopwatch.StartNew();
        var failures = new List<string>();
        foreach (var protocol in new[] { "TCP", "UDP" })
            foreach (var port in UpstreamModel.ServedPorts)
                if (await ClusterTruthTable.CompareAsync(cluster, UpstreamModel.PodKeys, port, protocol, null) is { } problem) failures.Add(problem);
        output.WriteLine($"seed {seed}: {state.Policies.Count} policies, {denied} of {4 * 72} cells denied, 4 tables in {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.True(failures.Count == 0, $"seed {seed}:\n{string.Join("\n", failures)}\npolicies:\n{string.Join("\n", state.Policies.Select(p => k8s.KubernetesJson.Serialize(p)))}");
    }
}

/// <summary>
/// Every upstream case (TCP and UDP; SCTP skips: no SCTP sockets here) in a local cluster routing
/// Direct: real agents compile and apply, pods on three nodes, every cell against the evaluator.
/// </summary>
[Collection(PolicyClusterCollection.Name)]
public sealed class DirectModeTests(DirectPolicyCluster cluster, ITestOutputHelper output) : IClassFixture<DirectPolicyCluster>
{
    public static TheoryData<string> Cases() => new(UpstreamCases.All.Where(c => !EndToEndCases.ProbesSctp(c)).Select(c => c.Name));

    public static TheoryData<string> SctpCases() => new(UpstreamCases.All.Where(EndToEndCases.ProbesSctp).Select(c => c.Name));

    [Theory]
    [MemberData(nameof(Cases))]
    public Task TruthTablesMatchTheReferenceEvaluator(string name) => EndToEndCases.RunAsync(cluster, name, output);

    [SctpTheory]
    [MemberData(nameof(SctpCases))]
    public Task SctpTruthTablesMatchTheReferenceEvaluator(string name) => EndToEndCases.RunAsync(cluster, name, output);

    public static TheoryData<int> RandomSeeds() => new(EndToEndCases.RandomSeeds);

    [Theory]
    [MemberData(nameof(RandomSeeds))]
    public Task RandomPoliciesMatchTheReferenceEvaluator(int seed) => EndToEndCases.RunRandomAsync(cluster, seed, output);

    /// <summary>`trellis-local probe` as a person debugging a denied connection uses it: it names the policies that dropped the probe.</summary>
    [Fact]
    public async Task ProbeNamesThePoliciesThatDroppedIt()
    {
        UpstreamModel.Reset(cluster.State);
        cluster.State.Apply(Policy("x", "only-from-y-a", Labels(("pod", "a")), ingress: [From([PodsIn(Labels(("ns", "y")), Labels(("pod", "a")))])]));
        cluster.State.Apply(Policy("y", "b-stays-home", Labels(("pod", "b")), egress: [To([Pods(Empty)])]));
        await cluster.SyncAsync();
        // Wait until enforced: y/b cannot reach x/a on both counts (its own egress, x/a's ingress).
        var failed = await ClusterTruthTable.CompareAsync(cluster, ["y/b", "x/a", "y/a"], 80, "TCP", null);
        Assert.Null(failed);

        var denied = cluster.Run.Run("probe", "y/b", "x/a", "--port", "80");
        Assert.Equal(1, denied.ExitCode);
        Assert.Contains($"dropped by NetworkPolicy y/b-stays-home (egress) on {cluster.Endpoints["y/b"].Node}", denied.StandardOutput);
        Assert.DoesNotContain("only-from-y-a", denied.StandardOutput);

        var ingress = cluster.Run.Run("probe", "z/a", "x/a", "--port", "81", "--protocol", "UDP", "--json");
        Assert.Equal(1, ingress.ExitCode);
        var json = LocalClusterRun.ParseJson(ingress);
        Assert.Equal([$"NetworkPolicy x/only-from-y-a (ingress) on {cluster.Endpoints["x/a"].Node}"], json["droppedBy"]!.AsArray().Select(d => d!.GetValue<string>()));

        var allowed = cluster.Run.Run("probe", "y/a", "x/a", "--port", "80");
        Assert.Equal(0, allowed.ExitCode);
        Assert.DoesNotContain("dropped by", allowed.StandardOutput);
    }


    /// <summary>
    /// A power cut on node1 (agent, kubelet, sandboxes and the node's namespace with its tables
    /// gone, no CNI DEL), with the policy changed as it happens: once the node is back, with new
    /// sandboxes and addresses, its new agent enforces the policy as it is now.
    /// </summary>
    [Fact]
    public async Task AfterAPowerCutTheRestartedAgentEnforcesWhatChangedMeanwhile()
    {
        UpstreamModel.Reset(cluster.State);
        string[] pods = ["x/a", "y/c", "z/b", "x/b", "y/a", "z/a"];
        Assert.All(pods.Take(3), p => Assert.Equal("node1", cluster.Endpoints[p].Node));
        cluster.State.Apply(Policy("x", "only-from-y", Empty, ingress: [From([Namespaces(Labels(("ns", "y")))])]));
        await cluster.SyncAsync();
        Assert.Null(await ClusterTruthTable.CompareAsync(cluster, pods, 80, "TCP", null));

        var reboot = Task.Run(() => cluster.Run.Run("node", "reboot", "node1"));
        cluster.State.Apply(Policy("x", "only-from-y", Empty, ingress: [From([Namespaces(Labels(("ns", "z")))])]));
        cluster.State.Apply(Policy("z", "deny-egress", Labels(("pod", "b")), egress: []));
        await cluster.SyncAsync();
        var rebooted = await reboot;
        Assert.True(rebooted.Succeeded, rebooted.StandardError + rebooted.StandardOutput);

        var policies = cluster.State.Policies;
        cluster.Refresh();
        foreach (var policy in policies) cluster.State.Apply(policy);
        var problem = await ClusterTruthTable.CompareAsync(cluster, pods, 80, "TCP", null);
        Assert.True(problem is null, problem);
    }

    /// <summary>
    /// One pair probed ten times a second while a policy is created and deleted: the connection
    /// is cut soon after the policy appears, stays cut, and comes back once it is deleted.
    /// </summary>
    [Fact]
    public async Task APolicyTakesEffectUnderContinuousProbingAndIsUndoneOnDeletion()
    {
        UpstreamModel.Reset(cluster.State);
        await cluster.SyncAsync();
        var from = cluster.Endpoints["y/b"];
        var to = cluster.Endpoints["x/a"];
        Assert.NotEqual(from.Node, to.Node);
        await using var probing = new ContinuousProbe(from, to, 80, "TCP");
        await probing.WaitForAsync(connected: true, TimeSpan.FromSeconds(30));

        var created = probing.Now;
        await cluster.Client.NetworkingV1.CreateNamespacedNetworkPolicyAsync(Policy("x", "deny-ingress", Empty, ingress: []), "x");
        var cut = await probing.WaitForAsync(connected: false, TimeSpan.FromSeconds(30));
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.True(probing.Since(cut).All(s => !s.Connected), "a probe got through after the policy took effect");

        var deleted = probing.Now;
        await cluster.Client.NetworkingV1.DeleteNamespacedNetworkPolicyAsync("deny-ingress", "x");
        var restored = await probing.WaitForAsync(connected: true, TimeSpan.FromSeconds(30));
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.True(probing.Since(restored).All(s => s.Connected), "a probe was dropped after the policy was deleted");
        output.WriteLine($"cut {(cut - created).TotalMilliseconds:0} ms after the policy was created; restored {(restored - deleted).TotalMilliseconds:0} ms after it was deleted ({probing.Count} probes)");
    }
}

/// <summary>How `trellis-local probe` reads the agents' drop counters.</summary>
public sealed class PolicyDropsTests
{
    [Fact]
    public void CounterNamesReadAsPoliciesAndDirections()
    {
        Assert.Equal("NetworkPolicy x/deny (ingress)", PolicyDrops.Describe("drop.in.x/deny"));
        Assert.Equal("NetworkPolicy y/b.c (egress)", PolicyDrops.Describe("drop.out.y/b.c"));
        Assert.StartsWith("the NetworkPolicy behind counter drop.in.h0123", PolicyDrops.Describe("drop.in.h0123456789abcdef"));
        Assert.Equal("something-else", PolicyDrops.Describe("something-else"));
    }
}

/// <summary>
/// The selection of cases in a cluster of another routing mode: same-node pairs are bridged as in
/// every mode, cross-node pairs cross the mode's own path (a VXLAN tunnel, Auto's choice per
/// peer, the BGP router in the underlay), so the agents must filter both wherever packets go.
/// </summary>
public abstract class SelectedCaseTests<TCluster>(TCluster cluster, ITestOutputHelper output) : IClassFixture<TCluster>
    where TCluster : PolicyCluster
{
    public static TheoryData<string> Cases() => new(EndToEndCases.Selection);

    [Theory]
    [MemberData(nameof(Cases))]
    public Task TruthTablesMatchTheReferenceEvaluator(string name) => EndToEndCases.RunAsync(cluster, name, output);

    [Fact]
    public void TheSelectionNamesRealCases() => Assert.All(EndToEndCases.Selection, name => Assert.Single(UpstreamCases.All, c => c.Name == name));
}

/// <summary>The cluster routing VXLAN: cross-node pairs through the tunnel.</summary>
[Collection(PolicyClusterCollection.Name)]
public sealed class VxlanModeTests(VxlanPolicyCluster cluster, ITestOutputHelper output) : SelectedCaseTests<VxlanPolicyCluster>(cluster, output);

/// <summary>The cluster routing Auto over a mixed underlay: cross-node pairs routed directly (node1, node2) or through VXLAN (to and from node3).</summary>
[Collection(PolicyClusterCollection.Name)]
public sealed class AutoModeTests(AutoPolicyCluster cluster, ITestOutputHelper output) : SelectedCaseTests<AutoPolicyCluster>(cluster, output);

/// <summary>The cluster routing BGP: cross-node pairs through FRR in the underlay, which learnt the blocks from the agents.</summary>
[Collection(PolicyClusterCollection.Name)]
public sealed class BgpModeTests(BgpPolicyCluster cluster, ITestOutputHelper output) : SelectedCaseTests<BgpPolicyCluster>(cluster, output);

/// <summary>Probes one pair every 100 ms in the background and remembers every outcome with its time.</summary>
public sealed class ContinuousProbe : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(DateTime At, bool Connected)> _samples = [];
    private readonly Task _running;

    public ContinuousProbe(PodEndpoint from, PodEndpoint to, int port, string protocol)
    {
        _running = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                var started = DateTime.UtcNow;
                var result = await PodProber.ProbeAsync(from, to, port, protocol, TimeSpan.FromMilliseconds(500), CancellationToken.None);
                lock (_samples) _samples.Add((started, result.Connected));
                var rest = TimeSpan.FromMilliseconds(100) - (DateTime.UtcNow - started);
                if (rest > TimeSpan.Zero) await Task.Delay(rest);
            }
        });
    }

    public DateTime Now => DateTime.UtcNow;

    public int Count { get { lock (_samples) return _samples.Count; } }

    public IReadOnlyList<(DateTime At, bool Connected)> Since(DateTime time)
    {
        lock (_samples) return _samples.Where(s => s.At > time).ToList();
    }

    /// <summary>The start time of the first probe, after now, with the wanted outcome.</summary>
    public async Task<DateTime> WaitForAsync(bool connected, TimeSpan patience)
    {
        var from = DateTime.UtcNow;
        var deadline = from + patience;
        while (DateTime.UtcNow < deadline)
        {
            lock (_samples)
                foreach (var sample in _samples.Where(s => s.At >= from))
                    if (sample.Connected == connected) return sample.At;
            await Task.Delay(50);
        }
        throw new TimeoutException($"no probe {(connected ? "connected" : "was dropped")} within {patience.TotalSeconds} s");
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _running;
        _stop.Dispose();
    }
}
