using System.Net;
using System.Net.Sockets;
using Trellis.NetworkPolicy.Applying;
using Trellis.NetworkPolicy.Facts;
using Trellis.NetworkPolicy.Ruleset;
using Trellis.NetworkPolicy.Tests.Model;
using Trellis.NetworkPolicy.Tests.Reference;
using static Trellis.NetworkPolicy.Tests.Model.PolicyObjects;

namespace Trellis.NetworkPolicy.Tests.Kernel;

/// <summary>What the upstream cases do not show: nodes, outside hosts, counters, updates and the bridge path.</summary>
[Collection(PolicyLabCollection.Name)]
public sealed class KernelBehaviourTests(PolicyLabFixture fixture)
{
    private static readonly TimeSpan Timeout = TruthTable.Timeout;
    private PolicyLab Lab => fixture.Lab;
    private ClusterState State => Lab.State;

    private static ProbeCell Cell(string from, string to, IPAddress destination, int port = 80, TransportProtocol protocol = TransportProtocol.Tcp) =>
        new(from, to, destination, port, protocol);

    private ProbeCell ToPod(string from, string pod, AddressFamily family = AddressFamily.InterNetwork, int port = 80, TransportProtocol protocol = TransportProtocol.Tcp) =>
        Cell(from, pod, State.Pod(pod).Address(family), port, protocol);

    private async Task<bool> AnsweredAsync(ProbeCell cell, bool expectAnswer)
    {
        var result = (await Lab.ProbeAsync([cell], expectAnswer ? TruthTable.PatientTimeout : Timeout))[cell];
        Assert.Null(result.Error);
        if (result.Answered) Assert.Equal(cell.To, result.Answer);
        return result.Answered;
    }

    private async Task ExpectAsync(ProbeCell cell, bool allowed) =>
        Assert.True(await AnsweredAsync(cell, allowed) == allowed, $"{cell.From} -> {cell.To} {cell.Destination}:{cell.Port}/{cell.Protocol}: expected {(allowed ? "an answer" : "no answer")}");

    private void Reset()
    {
        UpstreamModel.Reset(State);
        Lab.Forget();
        foreach (var node in Lab.Nodes.Values) node.Exec("sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=1");
    }

    [Fact]
    public async Task ANodeAlwaysReachesItsOwnPodsButNotOtherNodesIsolatedPods()
    {
        Reset();
        foreach (var ns in UpstreamModel.NamespaceNames) State.Apply(Policy(ns, "deny-all", Empty, ingress: [], egress: []));
        Lab.Enforce();
        foreach (var family in new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
        {
            var cells = new List<ProbeCell>();
            foreach (var pod in State.Pods)
                foreach (var node in Lab.Nodes.Keys)
                    cells.Add(ToPod(node, pod.Key, family));
            var results = new Dictionary<ProbeCell, ProbeResult>(await Lab.ProbeAsync(cells, Timeout));
            var unanswered = cells.Where(c => State.Pod(c.To).Node == c.From && !results[c].Answered).ToList();
            if (unanswered.Count > 0)
                foreach (var (cell, result) in await Lab.ProbeAsync(unanswered, TruthTable.PatientTimeout)) results[cell] = result;
            foreach (var cell in cells)
            {
                var pod = State.Pod(cell.To);
                bool own = pod.Node == cell.From;
                var expected = State.Expect(Endpoint.OfNode(cell.From, PolicyLab.NodeAddress(cell.From, family)),
                    Endpoint.OfPod(pod.ToObject(), pod.Address(family)), 80, TransportProtocol.Tcp);
                Assert.Equal(own, expected);
                Assert.True(results[cell].Answered == own, $"{cell.From} -> {cell.To} over {family}: expected {(own ? "an answer (its own node)" : "no answer")}");
            }
        }
    }

    [Fact]
    public async Task AnOutsideHostIsAllowedOnlyThroughIpBlocksAndTheirExceptions()
    {
        Reset();
        State.Apply(Policy("x", "from-underlay", PodA, ingress: [From([Block("192.168.1.0/24", $"{PolicyLab.ExternalV4}/32"), Block("fd00:1::/64")])]));
        State.Apply(Policy("x", "to-outside-80", PodA, egress: [To([Block($"{PolicyLab.ExternalV4}/32"), Block("fd00:1::/120")], [NumberedPort(80)])]));
        Lab.Enforce();
        var outside = new ProbeCell[]
        {
            ToPod("external", "x/a"),
            ToPod("external", "x/a", AddressFamily.InterNetworkV6),
            Cell("x/a", "external", PolicyLab.ExternalV4),
            Cell("x/a", "external", PolicyLab.ExternalV4, 81),
            Cell("x/a", "external", PolicyLab.ExternalV6),
            Cell("x/a", "external", PolicyLab.ExternalV4, protocol: TransportProtocol.Udp),
            ToPod("x/a", "y/a"),
            ToPod("external", "x/b"),
        };
        var objects = State.PodObjects();
        Endpoint Of(string who, IPAddress address) => who == "external"
            ? Endpoint.External(address)
            : Endpoint.OfPod(objects.Single(o => $"{o.Metadata.NamespaceProperty}/{o.Metadata.Name}" == who), address);
        var expected = new[] { false, true, true, false, false, false, false, true };
        for (int i = 0; i < outside.Length; i++)
        {
            var cell = outside[i];
            var source = cell.From == "external"
                ? (cell.Destination.AddressFamily == AddressFamily.InterNetwork ? PolicyLab.ExternalV4 : PolicyLab.ExternalV6)
                : State.Pod(cell.From).Address(cell.Destination.AddressFamily);
            Assert.Equal(expected[i], State.Expect(Of(cell.From, source), Of(cell.To, cell.Destination), cell.Port, cell.Protocol));
            await ExpectAsync(cell, expected[i]);
        }
    }

    [Fact]
    public async Task RepliesToAnAllowedConnectionPassAnIsolatedPod()
    {
        Reset();
        State.Apply(Policy("x", "a-talks-to-y-a", PodA, ingress: [], egress: [To([PodsIn(Labels(("ns", "y")), PodA)])]));
        State.Apply(Policy("y", "a-hears-x-a", PodA, ingress: [From([PodsIn(Labels(("ns", "x")), PodA)])], egress: []));
        Lab.Enforce();
        // Both pods are isolated both ways; only the connection x/a opens, and its replies, pass.
        await ExpectAsync(ToPod("x/a", "y/a"), true);
        await ExpectAsync(ToPod("x/a", "y/a", protocol: TransportProtocol.Udp), true);
        await ExpectAsync(ToPod("y/a", "x/a"), false);
        await ExpectAsync(ToPod("x/a", "y/a", AddressFamily.InterNetworkV6), true);
    }

    [Fact]
    public async Task EachPolicysDropCounterCountsWhatItIsolatedAndNothingAllowed()
    {
        Reset();
        State.Apply(Policy("x", "deny-ingress", Empty, ingress: []));
        State.Apply(Policy("x", "only-from-y-b", PodA, ingress: [From([PodsIn(Labels(("ns", "y")), PodB)])]));
        State.Apply(Policy("y", "deny-egress", PodA, egress: []));
        Lab.Enforce();
        var node = State.Pod("x/a").Node;
        var otherNode = State.Pod("y/a").Node;
        var before = Lab.ReadCounters(node);
        var otherBefore = Lab.ReadCounters(otherNode);
        await ExpectAsync(ToPod("z/a", "x/a"), false);
        await ExpectAsync(ToPod("z/a", "x/a", protocol: TransportProtocol.Udp), false);
        await ExpectAsync(ToPod("y/b", "x/a"), true);
        var after = Lab.ReadCounters(node);
        long Delta(string counter) => after[counter].Packets - before.GetValueOrDefault(counter).Packets;
        Assert.InRange(Delta("drop.in.x/deny-ingress"), 2, 20);
        Assert.Equal(Delta("drop.in.x/deny-ingress"), Delta("drop.in.x/only-from-y-b"));
        // y/deny-egress isolates nothing on x/a's node, so it has no counter there, and it denied nothing here.
        Assert.False(after.ContainsKey("drop.out.y/deny-egress"));
        Assert.Equal(otherBefore["drop.out.y/deny-egress"], Lab.ReadCounters(otherNode)["drop.out.y/deny-egress"]);
    }

    [Fact]
    public async Task PodChurnIsAppliedAsElementChangesAndReplacementsKeepTheCounters()
    {
        Reset();
        State.Apply(Policy("x", "from-team", PodA, ingress: [From([Pods(Labels(("team", "in")))])]));
        var first = Lab.Enforce();
        Assert.All(first.Values, e => Assert.Equal(TableWrite.Replaced, e.Write));
        await ExpectAsync(ToPod("x/b", "x/a"), false);
        await ExpectAsync(ToPod("x/c", "x/a"), false);

        State.Pod("x/b").Labels["team"] = "in";
        var relabelled = Lab.Enforce();
        Assert.Equal(TableWrite.Elements, relabelled[State.Pod("x/a").Node].Write);
        Assert.Equal(TableWrite.Unchanged, relabelled[State.Pod("x/b").Node].Write);
        await ExpectAsync(ToPod("x/b", "x/a"), true);
        await ExpectAsync(ToPod("x/c", "x/a"), false);

        var node = State.Pod("x/a").Node;
        var counted = Lab.ReadCounters(node)["drop.in.x/from-team"];
        Assert.True(counted.Packets >= 2);
        State.Apply(Policy("y", "deny-ingress", Empty, ingress: []));
        var restructured = Lab.Enforce();
        Assert.Equal(TableWrite.Replaced, restructured[State.Pod("y/a").Node].Write);
        Assert.Equal(TableWrite.Replaced, restructured[node].Write);
        Assert.True(Lab.ReadCounters(node)["drop.in.x/from-team"].Packets >= counted.Packets);
        await ExpectAsync(ToPod("x/b", "x/a"), true);
        await ExpectAsync(ToPod("x/a", "y/a"), false);
    }

    [Fact]
    public async Task AFailedApplyLeavesThePreviousTableEnforced()
    {
        Reset();
        State.Apply(Policy("x", "deny-ingress", Empty, ingress: []));
        var node = State.Pod("x/a").Node;
        var enforced = Lab.Enforce()[node].Compiled.Table;
        var before = Lab.Nodes[node].Exec("nft", "list", "table", PolicyTable.Family, enforced.Name);
        var broken = enforced with { Chains = [.. enforced.Chains, new NftChain("broken", null, null, [new JumpRule("no-such-chain")])] };
        var writer = new PolicyTableWriter(Lab.NftIn(node));
        Assert.Throws<NftablesException>(() => writer.Write(broken));
        Assert.Equal(before, Lab.Nodes[node].Exec("nft", "list", "table", PolicyTable.Family, enforced.Name));
        await ExpectAsync(ToPod("y/a", "x/a"), false);
    }

    [Fact]
    public async Task AWriterWhoseMemoryDisagreesWithTheKernelReplacesTheTable()
    {
        Reset();
        State.Apply(Policy("x", "from-b", PodA, ingress: [From([Pods(PodB)])]));
        var node = State.Pod("x/a").Node;
        Lab.Enforce();
        // Someone removes an element behind the agent's back; the next element change would delete it again and fail.
        var table = Lab.Enforce()[node].Compiled.Table;
        var set = table.FindSet(table.FindChain("in.x/from-b")!.Rules.OfType<AllowRule>().First().Peer!.Set)!;
        Lab.NftIn(node).Run($"delete element inet trellis-policy {set.Name} {{ {set.Elements[0]} }}\n");
        State.Pod("x/b").Labels["pod"] = "renamed";
        Assert.Equal(TableWrite.Replaced, Lab.Enforce()[node].Write);
        await ExpectAsync(ToPod("x/b", "x/a"), false);
        State.Pod("x/b").Labels["pod"] = "b";
        Assert.Equal(TableWrite.Elements, Lab.Enforce()[node].Write);
        await ExpectAsync(ToPod("x/b", "x/a"), true);
    }

    [Fact]
    public async Task BridgedTrafficMeetsTheTableOnlyThroughBridgeNetfilter()
    {
        Reset();
        State.Apply(Policy("x", "deny-ingress", Empty, ingress: []));
        Lab.Enforce();
        var node = Lab.Nodes[State.Pod("x/a").Node];
        Assert.Equal(State.Pod("x/a").Node, State.Pod("x/c").Node);
        await ExpectAsync(ToPod("x/c", "x/a"), false);
        try
        {
            node.Exec("sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=0");
            // Without it the bridge forwards same-node packets past every inet hook: the agent must set it.
            await ExpectAsync(ToPod("x/c", "x/a"), true);
            await ExpectAsync(ToPod("x/b", "x/a"), false);
        }
        finally
        {
            node.Exec("sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=1");
        }
        await ExpectAsync(ToPod("x/c", "x/a"), false);
    }

    [Fact]
    public async Task HostileNamesCannotBreakOrInjectIntoTheScript()
    {
        Reset();
        State.Apply(Policy("x", "evil\"; flush ruleset; add table ip owned #", PodA, ingress: []));
        State.Apply(Policy("x", "UPPER case\nname", Labels(("pod", "b")), ingress: []));
        State.Apply(Policy("x", new string('n', 253), Labels(("pod", "c")), ingress: []));
        var node = State.Pod("x/a").Node;
        Assert.Equal(TableWrite.Replaced, Lab.Enforce()[node].Write);
        Assert.DoesNotContain("owned", Lab.Nodes[node].Exec("nft", "list", "tables"));
        await ExpectAsync(ToPod("y/a", "x/a"), false);
        await ExpectAsync(ToPod("y/a", "x/b"), false);
        await ExpectAsync(ToPod("y/a", "x/c"), false);
    }

    /// <summary>
    /// Stateful, as Calico and kube-router are (Kubernetes leaves existing connections to the implementation): a UDP flow the
    /// policy allowed keeps its answers after a policy denies it, until conntrack forgets the flow; a new flow is denied at once.
    /// This is why <see cref="PolicyLab.Enforce"/> forgets every flow before a truth table is probed.
    /// </summary>
    [Fact]
    public async Task AnAllowedUdpFlowOutlivesAPolicyThatDeniesItUntilItIsForgottenWhileANewFlowIsDeniedAtOnce()
    {
        Reset();
        Lab.Enforce();
        var cell = ToPod("x/b", "x/a", protocol: TransportProtocol.Udp);
        const int oldFlow = 41001, newFlow = 41002;
        Assert.True((await ProbeFromAsync(cell, oldFlow, TruthTable.PatientTimeout)).Answered, "open: the first flow is answered");

        State.Apply(Policy("x", "deny-ingress", PodA, ingress: []));
        Lab.Enforce(keepFlows: true);
        Assert.False((await ProbeFromAsync(cell, newFlow, Timeout)).Answered, "a new flow is denied by the new policy");
        Assert.True((await ProbeFromAsync(cell, oldFlow, TruthTable.PatientTimeout)).Answered, "the established flow still passes");

        Lab.ForgetFlows();
        Assert.False((await ProbeFromAsync(cell, oldFlow, Timeout)).Answered, "once forgotten, the old flow is new and denied");
    }

    /// <summary>Probes <paramref name="cell"/> from a fixed source port, so that two probes can be one flow.</summary>
    private async Task<ProbeResult> ProbeFromAsync(ProbeCell cell, int sourcePort, TimeSpan timeout)
    {
        var socket = Trellis.Netlink.NetworkNamespaceRunner.Run(Lab.NamespaceOf(cell.From).Path, () =>
        {
            var made = new Socket(cell.Destination.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            made.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            made.Bind(new IPEndPoint(cell.Destination.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, sourcePort));
            return made;
        });
        var result = await PodSockets.ProbeAsync(socket, cell.Destination, cell.Port, timeout);
        Assert.Null(result.Error);
        return result;
    }

    private static readonly k8s.Models.V1LabelSelector PodA = Labels(("pod", "a"));
    private static readonly k8s.Models.V1LabelSelector PodB = Labels(("pod", "b"));
}
