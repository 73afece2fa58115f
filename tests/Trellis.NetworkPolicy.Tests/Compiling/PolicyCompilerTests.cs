using k8s.Models;
using Trellis.NetworkPolicy.Compiling;
using Trellis.NetworkPolicy.Facts;
using Trellis.NetworkPolicy.Ruleset;
using Trellis.NetworkPolicy.Tests.Reference;
using static Trellis.NetworkPolicy.Tests.Model.PolicyObjects;
using System.Net;

namespace Trellis.NetworkPolicy.Tests.Compiling;

public sealed class PolicyCompilerTests
{
    private static readonly Dictionary<string, string> Web = new() { ["app"] = "web" };
    private static readonly Dictionary<string, string> Db = new() { ["app"] = "db" };

    private static CompiledPolicies Compile(IEnumerable<V1NetworkPolicy> policies, IEnumerable<V1Pod> pods, string node = "n1", IEnumerable<V1Namespace>? namespaces = null) =>
        PolicyCompiler.Compile(PolicyInputs.Parse(policies, namespaces ?? [], pods), node);

    /// <summary>The set a chain's rules refer to with <paramref name="kind"/> (shared sets are named by meaning, not by policy).</summary>
    private static NftSet SetUsedBy(PolicyTable table, string chain, SetKind kind, IpFamily family = IpFamily.V4)
    {
        var names = table.FindChain(chain)!.Rules.OfType<AllowRule>()
            .SelectMany(r => new[] { r.Peer?.Set, r.PortSet, r.NamedPorts?.Set }).OfType<string>().ToHashSet();
        return table.Sets.Single(s => names.Contains(s.Name) && s.Kind == kind && (kind == SetKind.Ports || s.Family == family));
    }

    private static IEnumerable<V1Pod> MakePods(string ns, int count, string node, IDictionary<string, string> labels, int offset = 0) =>
        Enumerable.Range(offset, count).Select(i => Pod(ns, $"p{i}", labels, node, [$"10.{(node == "n1" ? 1 : 2)}.{i / 250}.{i % 250 + 1}"]));

    [Fact]
    public void WithoutPoliciesTheTableOnlyPassesTraffic()
    {
        var table = Compile([], MakePods("x", 3, "n1", Web)).Table;
        Assert.Equal(["pod-egress", "pod-ingress"], table.Chains.Select(c => c.Name));
        Assert.All(table.Sets, s => Assert.Empty(s.Elements));
        Assert.Empty(table.Counters);
        var simulator = new RulesetSimulator(table);
        Assert.True(simulator.Accepts(new Packet(IPAddress.Parse("10.1.0.1"), IPAddress.Parse("10.1.0.2"), TransportProtocol.Tcp, 80)));
    }

    [Fact]
    public void APolicyWithoutLocalTargetsAddsNothingToThisNode()
    {
        var deny = Policy("x", "deny", Empty, ingress: []);
        var here = Compile([deny], MakePods("x", 2, "n2", Web)).Table;
        Assert.Equal(2, here.Chains.Count);
        Assert.Empty(here.Counters);
        var there = Compile([deny], MakePods("x", 2, "n2", Web), node: "n2").Table;
        Assert.Contains(there.Chains, c => c.Name == "in.x/deny");
    }

    [Fact]
    public void RulesGrowWithPoliciesNotWithPods()
    {
        var policies = Enumerable.Range(0, 20).Select(i => Policy("x", $"p{i}", Labels(("app", "web")),
            ingress: [From([Pods(Labels(("app", "db")))], [NumberedPort(8000 + i)])])).ToList();
        var few = Compile(policies, MakePods("x", 10, "n1", Web).Concat(MakePods("x", 10, "n2", Db, offset: 10))).Table;
        var many = Compile(policies, MakePods("x", 1000, "n1", Web).Concat(MakePods("x", 1000, "n2", Db, offset: 1000))).Table;
        Assert.Equal(few.RuleCount, many.RuleCount);
        Assert.Equal(PolicyTableScript.Structure(few), PolicyTableScript.Structure(many));
        // The thousand local pods are map elements; the peers' addresses merge into ranges.
        Assert.True(many.ElementCount - few.ElementCount >= 990);
        // 20 policy chains of one rule, one group chain of 20 jumps and one counting drop, two base chains of 2 rules.
        Assert.Equal(20 + 21 + 4, many.RuleCount);
    }

    [Fact]
    public void PodsIsolatedByTheSamePoliciesShareOneGroupChain()
    {
        var pods = MakePods("x", 3, "n1", Web).Concat(MakePods("x", 2, "n1", Db, offset: 3)).ToList();
        var all = Policy("x", "all", Empty, ingress: []);
        var web = Policy("x", "web", Labels(("app", "web")), ingress: [From()]);
        var table = Compile([all, web], pods).Table;
        var groups = table.Chains.Where(c => c.Name.StartsWith("in.group.", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, groups.Count);
        var dispatch = table.FindSet("in.pods4")!.Elements.Cast<DispatchElement>().ToList();
        Assert.Equal(5, dispatch.Count);
        Assert.Equal(2, dispatch.Select(d => d.Chain).Distinct().Count());
        var webGroup = groups.Single(g => g.Rules.Count == 3);
        Assert.Equal(["jump in.x/all", "jump in.x/web", "counter name drop.in.x/all counter name drop.in.x/web drop"], webGroup.Rules.Select(r => r.Render()));
    }

    [Fact]
    public void PodChurnChangesElementsAndNeverRules()
    {
        var policy = Policy("x", "from-db", Labels(("app", "web")), ingress: [From([Pods(Labels(("app", "db")))], [NamedPort("http")])]);
        var web = Pod("x", "web", Web, "n1", ["10.1.0.1"], [Port(8080, "TCP", "http")]);
        var before = Compile([policy], [web, Pod("x", "db1", Db, "n2", ["10.2.0.1"])]).Table;
        var web2 = Pod("x", "web2", Web, "n1", ["10.1.0.2"], [Port(9090, "TCP", "http")]);
        var after = Compile([policy], [web, web2, Pod("x", "db1", Db, "n2", ["10.2.0.1"]), Pod("x", "db2", Db, "n2", ["10.2.0.2"])]).Table;
        var changes = PolicyTableScript.ElementChanges(before, after);
        Assert.NotNull(changes);
        var peers = SetUsedBy(after, "in.x/from-db", SetKind.Addresses).Name;
        var group = ((DispatchElement)after.FindSet("in.pods4")!.Elements[0]).Chain;
        Assert.Equal(
        [
            $"delete element inet trellis-policy {peers} {{ 10.2.0.1 }}",
            $"add element inet trellis-policy in.pods4 {{ 10.1.0.2 : jump {group} }}",
            "add element inet trellis-policy in.x/from-db.0.named4 { 10.1.0.2 . tcp . 9090 }",
            $"add element inet trellis-policy {peers} {{ 10.2.0.1-10.2.0.2 }}",
        ], changes.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void NamedPortsResolvePerDestinationPodAndMatchNothingOnPodsWithoutTheName()
    {
        var pods = new[]
        {
            Pod("x", "a", Web, "n1", ["10.1.0.1"], [Port(8080, "TCP", "http")]),
            Pod("x", "b", Web, "n1", ["10.1.0.2", "fd00::2"], [Port(9090, "TCP", "http"), Port(53, "UDP", "http")]),
            Pod("x", "c", Web, "n1", ["10.1.0.3"], [Port(7070, "UDP", "http")]),
            Pod("x", "d", Web, "n1", ["10.1.0.4"]),
        };
        var table = Compile([Policy("x", "http", Empty, ingress: [From(ports: [NamedPort("http")])])], pods).Table;
        Assert.Equal(["10.1.0.1 . tcp . 8080", "10.1.0.2 . tcp . 9090"], table.FindSet("in.x/http.0.named4")!.Elements.Select(e => e.ToString()));
        Assert.Equal(["fd00::2 . tcp . 9090"], table.FindSet("in.x/http.0.named6")!.Elements.Select(e => e.ToString()));
        var simulator = new RulesetSimulator(table);
        bool Allows(string to, int port, TransportProtocol protocol = TransportProtocol.Tcp) =>
            simulator.Accepts(new Packet(IPAddress.Parse("10.9.9.9"), IPAddress.Parse(to), protocol, port));
        Assert.True(Allows("10.1.0.1", 8080));
        Assert.False(Allows("10.1.0.1", 9090));
        Assert.True(Allows("10.1.0.2", 9090));
        Assert.False(Allows("10.1.0.2", 53, TransportProtocol.Udp));
        Assert.False(Allows("10.1.0.3", 7070, TransportProtocol.Udp));
        Assert.False(Allows("10.1.0.4", 8080));
    }

    [Fact]
    public void EgressNamedPortsCoverOnlyDestinationsTheRuleAllows()
    {
        var pods = new[]
        {
            Pod("x", "client", Web, "n1", ["10.1.0.1"]),
            Pod("y", "in-block", Db, "n2", ["10.2.0.1"], [Port(5432, "TCP", "sql")]),
            Pod("y", "outside", Db, "n2", ["10.3.0.1"], [Port(5433, "TCP", "sql")]),
        };
        var table = Compile([Policy("x", "sql", Labels(("app", "web")), egress: [To([Block("10.2.0.0/16")], [NamedPort("sql")])])], pods).Table;
        var named = SetUsedBy(table, "out.x/sql", SetKind.NamedPorts);
        Assert.Equal(["10.2.0.1 . tcp . 5432"], named.Elements.Select(e => e.ToString()));
        Assert.Equal("ports tcp/sql of 10.2.0.0/16", named.Comment);
        var rule = table.FindChain("out.x/sql")!.Rules.Single().Render();
        Assert.Equal($"ip daddr . meta l4proto . th dport @{named.Name} accept", rule);
    }

    [Fact]
    public void PortRangesAndProtocolsBecomeOneIntervalSet()
    {
        var table = Compile([Policy("x", "ports", Empty, ingress: [From(ports:
        [
            NumberedPort(80), NumberedPort(81, endPort: 90), NumberedPort(85, endPort: 100), NumberedPort(200),
            NumberedPort(53, "UDP"), ProtocolOnly("SCTP"),
        ])])], MakePods("x", 1, "n1", Web)).Table;
        Assert.Equal(["tcp . 80-100", "tcp . 200", "udp . 53", "sctp . 0-65535"], SetUsedBy(table, "in.x/ports", SetKind.Ports).Elements.Select(e => e.ToString()));
    }

    [Fact]
    public void EachIsolatingPolicyCountsTheDropsOfItsPods()
    {
        var pods = MakePods("x", 2, "n1", Web).ToList();
        var compiled = Compile([Policy("x", "a", Empty, ingress: [], egress: []), Policy("x", "b", Labels(("app", "web")), ingress: [])], pods);
        Assert.Equal(["drop.out.x/a", "drop.in.x/a", "drop.in.x/b"], compiled.Table.Counters.Select(c => c.Name));
        Assert.Equal(
        [
            new PolicyCounter("drop.out.x/a", "x", "a", PolicyDirection.Egress),
            new PolicyCounter("drop.in.x/a", "x", "a", PolicyDirection.Ingress),
            new PolicyCounter("drop.in.x/b", "x", "b", PolicyDirection.Ingress),
        ], compiled.Counters);
        var counted = new List<string>();
        var simulator = new RulesetSimulator(compiled.Table);
        Assert.False(simulator.Accepts(new Packet(IPAddress.Parse("10.9.9.9"), IPAddress.Parse("10.1.0.1"), TransportProtocol.Tcp, 80), counted));
        Assert.Equal(["drop.in.x/a", "drop.in.x/b"], counted);
    }

    [Fact]
    public void RulesThatMeanTheSameShareTheirSets()
    {
        var namespaces = new[] { Namespace("x"), Namespace("y"), Namespace("mon", new Dictionary<string, string> { ["role"] = "monitoring" }) };
        var pods = MakePods("x", 2, "n1", Web).Concat(MakePods("y", 2, "n1", Web, offset: 2)).Append(Pod("mon", "prom", Db, "n2", ["10.2.0.9"])).ToList();
        V1NetworkPolicy Monitoring(string ns) => Policy(ns, "from-monitoring", Empty, ingress: [From([Namespaces(Expression("role", "In", "monitoring"))], [NumberedPort(9090)])]);
        V1NetworkPolicy SameNamespace(string ns) => Policy(ns, "same-namespace", Empty, ingress: [From([Pods(Empty)])]);
        var table = Compile([Monitoring("x"), Monitoring("y"), SameNamespace("x"), SameNamespace("y")], pods, namespaces: namespaces).Table;
        Assert.Equal(SetUsedBy(table, "in.x/from-monitoring", SetKind.Addresses), SetUsedBy(table, "in.y/from-monitoring", SetKind.Addresses));
        Assert.Equal(SetUsedBy(table, "in.x/from-monitoring", SetKind.Ports), SetUsedBy(table, "in.y/from-monitoring", SetKind.Ports));
        Assert.Equal("pods with (everything) in namespaces with (role In (monitoring))", SetUsedBy(table, "in.x/from-monitoring", SetKind.Addresses).Comment);
        // "Pods of my namespace" means a different namespace in each policy.
        Assert.NotEqual(SetUsedBy(table, "in.x/same-namespace", SetKind.Addresses).Name, SetUsedBy(table, "in.y/same-namespace", SetKind.Addresses).Name);
    }

    [Fact]
    public void AGroupOfManyPoliciesCountsInRulesNftablesAccepts()
    {
        var policies = Enumerable.Range(0, 70).Select(i => Policy("x", $"p{i:00}", Empty, ingress: [])).ToList();
        var table = Compile(policies, MakePods("x", 1, "n1", Web)).Table;
        var group = table.Chains.Single(c => c.Name.StartsWith("in.group.", StringComparison.Ordinal));
        var counts = group.Rules.OfType<CountRule>().ToList();
        Assert.Equal([32, 32, 6], counts.Select(c => c.Counters.Count));
        Assert.Equal([false, false, true], counts.Select(c => c.Drop));
    }

    [Fact]
    public void AnAddressHeldByTwoLocalPodsIsJudgedOnceAndReported()
    {
        var pods = new[] { Pod("x", "a", Web, "n1", ["10.1.0.1"]), Pod("x", "b", Db, "n1", ["10.1.0.1"]) };
        var compiled = Compile([Policy("x", "web", Labels(("app", "web")), ingress: []), Policy("x", "db", Labels(("app", "db")), ingress: [From()])], pods);
        Assert.Single(compiled.Table.FindSet("in.pods4")!.Elements);
        Assert.Contains(compiled.Problems, p => p.Contains("address 10.1.0.1 is also held by another pod"));
    }

    [Fact]
    public void OnlyFamiliesInUseGetSetsMapsAndRules()
    {
        var v4 = Compile([Policy("x", "p", Empty, ingress: [From([Pods(Empty)])])], MakePods("x", 2, "n1", Web)).Table;
        Assert.DoesNotContain(v4.Sets, s => s.Family == IpFamily.V6 && s.Kind != SetKind.Ports);
        Assert.DoesNotContain(v4.Chains.SelectMany(c => c.Rules), r => r is AcceptNeighborDiscovery);

        var withV6Block = Compile([Policy("x", "p", Empty, ingress: [From([Block("fd00::/8")])])], MakePods("x", 2, "n1", Web)).Table;
        Assert.Single(SetUsedBy(withV6Block, "in.x/p", SetKind.Addresses, IpFamily.V6).Elements);
        Assert.Contains(withV6Block.Sets, s => s.Name == "in.pods6");
        Assert.Contains(withV6Block.FindChain("pod-ingress")!.Rules, r => r is AcceptNeighborDiscovery);
    }

    [Fact]
    public void ObjectNamesReadLikeThePolicyUnlessNftablesCannotHoldThem()
    {
        Assert.Equal("x/allow-db.v2", ObjectNames.PolicyId("x", "allow-db.v2"));
        var longName = new string('a', 200);
        Assert.Matches("^h[0-9a-f]{16}$", ObjectNames.PolicyId("x", longName));
        Assert.Matches("^h[0-9a-f]{16}$", ObjectNames.PolicyId("x", "Upper"));
        Assert.NotEqual(ObjectNames.PolicyId("x", longName), ObjectNames.PolicyId("y", longName));
        Assert.Equal(ObjectNames.GroupChain(PolicyDirection.Ingress, ["a/b", "c/d"]), ObjectNames.GroupChain(PolicyDirection.Ingress, ["a/b", "c/d"]));
        Assert.NotEqual(ObjectNames.GroupChain(PolicyDirection.Ingress, ["a/b", "c/d"]), ObjectNames.GroupChain(PolicyDirection.Ingress, ["a/b"]));
        Assert.StartsWith("out.group.", ObjectNames.GroupChain(PolicyDirection.Egress, ["a/b"]));
    }

    [Fact]
    public void CompilingIsDeterministicWhateverTheOrderOfTheInputs()
    {
        var pods = MakePods("x", 5, "n1", Web).Concat(MakePods("y", 5, "n2", Db)).ToList();
        var policies = new[]
        {
            Policy("x", "b", Empty, ingress: [From([Namespaces(Labels(("team", "db")))])]),
            Policy("x", "a", Labels(("app", "web")), egress: [To([PodsIn(Empty, Labels(("app", "db")))], [NumberedPort(5432)])]),
        };
        var namespaces = new[] { Namespace("x"), Namespace("y", new Dictionary<string, string> { ["team"] = "db" }) };
        var one = PolicyTableScript.Replace(Compile(policies, pods, namespaces: namespaces).Table);
        var two = PolicyTableScript.Replace(Compile(policies.Reverse(), Enumerable.Reverse(pods), namespaces: namespaces.Reverse()).Table);
        Assert.Equal(one, two);
    }
}
