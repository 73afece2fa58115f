using k8s.Models;
using Trellis.NetworkPolicy.Facts;
using static Trellis.NetworkPolicy.Tests.Model.PolicyObjects;

namespace Trellis.NetworkPolicy.Tests.Compiling;

public sealed class PolicyParserTests
{
    private static (PolicyFacts Facts, List<string> Problems) Parse(V1NetworkPolicy policy)
    {
        var problems = new List<string>();
        return (PolicyParser.Parse(policy, problems), problems);
    }

    [Fact]
    public void WithoutPolicyTypesIngressIsAlwaysSetAndEgressOnlyWithEgressRules()
    {
        var (ingressOnly, _) = Parse(Policy("x", "p", Empty, ingress: [From()], policyTypes: []));
        Assert.True(ingressOnly.AppliesToIngress);
        Assert.False(ingressOnly.AppliesToEgress);

        var withEgress = Policy("x", "p", Empty);
        withEgress.Spec.Egress = [To()];
        var (both, _) = Parse(withEgress);
        Assert.True(both.AppliesToIngress);
        Assert.True(both.AppliesToEgress);

        var emptyEgress = Policy("x", "p", Empty);
        emptyEgress.Spec.Egress = [];
        Assert.False(Parse(emptyEgress).Facts.AppliesToEgress);
    }

    [Fact]
    public void ExplicitPolicyTypesAreTakenAsWritten()
    {
        var (facts, problems) = Parse(Policy("x", "p", Empty, ingress: [From()], egress: [To()], policyTypes: ["Egress"]));
        Assert.False(facts.AppliesToIngress);
        Assert.True(facts.AppliesToEgress);
        Assert.Empty(problems);
    }

    [Fact]
    public void AnEmptyPeerOrPortListMatchesEverythingLikeAMissingOne()
    {
        var (facts, _) = Parse(Policy("x", "p", Empty, ingress: [From([], [])], egress: [To(null, null)]));
        Assert.Null(facts.IngressRules[0].Peers);
        Assert.Null(facts.IngressRules[0].Ports);
        Assert.Null(facts.EgressRules[0].Peers);
        Assert.Null(facts.EgressRules[0].Ports);
    }

    [Fact]
    public void PortsDefaultToTcpAndKeepRangesNamesAndProtocolOnlyEntries()
    {
        var (facts, problems) = Parse(Policy("x", "p", Empty, ingress: [From(ports:
        [
            NumberedPort(80), NumberedPort(1000, "UDP", endPort: 2000), NamedPort("serve-80-tcp"), ProtocolOnly("SCTP"),
        ])]));
        Assert.Empty(problems);
        Assert.Equal(
        [
            PolicyPort.Numbered(TransportProtocol.Tcp, 80, 80),
            PolicyPort.Numbered(TransportProtocol.Udp, 1000, 2000),
            PolicyPort.Named(TransportProtocol.Tcp, "serve-80-tcp"),
            PolicyPort.AllOf(TransportProtocol.Sctp),
        ], facts.IngressRules[0].Ports!);
    }

    [Fact]
    public void IpBlocksAreMaskedAsGoParsesThemAndKeepTheirExceptions()
    {
        var (facts, problems) = Parse(Policy("x", "p", Empty, egress: [To([Block("10.1.2.3/8", "10.1.0.0/16"), Block("fd00::1/64")])]));
        Assert.Empty(problems);
        var peers = facts.EgressRules[0].Peers!.Cast<BlockPeer>().ToList();
        Assert.Equal("10.0.0.0/8", peers[0].Cidr.ToString());
        Assert.Equal("10.1.0.0/16", Assert.Single(peers[0].Except).ToString());
        Assert.Equal("fd00::/64", peers[1].Cidr.ToString());
    }

    [Fact]
    public void SelectorPeersKeepWhichSelectorsWereGiven()
    {
        var (facts, _) = Parse(Policy("x", "p", Empty, ingress: [From([Pods(Labels(("a", "b"))), Namespaces(Empty), PodsIn(Empty, Labels(("c", "d")))])]));
        var peers = facts.IngressRules[0].Peers!.Cast<SelectorPeer>().ToList();
        Assert.Null(peers[0].Namespaces);
        Assert.NotNull(peers[0].Pods);
        Assert.True(peers[1].Namespaces!.SelectsEverything);
        Assert.Null(peers[1].Pods);
        Assert.NotNull(peers[2].Namespaces);
        Assert.NotNull(peers[2].Pods);
    }

    public static TheoryData<string, V1NetworkPolicyIngressRule, string> BrokenRules() => new()
    {
        { "bad cidr", From([Block("10.0.0.0/33")]), "spec.ingress[0].from[0].ipBlock.cidr" },
        { "not a cidr", From([Block("ten")]), "spec.ingress[0].from[0].ipBlock.cidr" },
        { "except outside", From([Block("10.0.0.0/16", "10.1.0.0/24")]), "spec.ingress[0].from[0].ipBlock.except[0] 10.1.0.0/24 is not inside cidr 10.0.0.0/16" },
        { "except of another family", From([Block("10.0.0.0/16", "fd00::/64")]), "spec.ingress[0].from[0].ipBlock.except[0]" },
        { "block with selector", From([new V1NetworkPolicyPeer { IpBlock = new V1IPBlock { Cidr = "10.0.0.0/8" }, PodSelector = Empty }]), "cannot be combined" },
        { "empty peer", From([new V1NetworkPolicyPeer()]), "spec.ingress[0].from[0] names no ipBlock" },
        { "bad operator", From([Pods(Expression("a", "Equals", "b"))]), "spec.ingress[0].from[0].podSelector.matchExpressions[0].operator \"Equals\"" },
        { "In without values", From([Namespaces(Expression("a", "In"))]), "needs at least one value" },
        { "Exists with values", From([Pods(Expression("a", "Exists", "b"))]), "takes no values" },
        { "protocol", From(ports: [NumberedPort(80, "ICMP")]), "spec.ingress[0].ports[0].protocol \"ICMP\"" },
        { "port zero", From(ports: [NumberedPort(0)]), "spec.ingress[0].ports[0].port 0 is outside 1..65535" },
        { "port too big", From(ports: [NumberedPort(65536)]), "outside 1..65535" },
        { "endPort below port", From(ports: [NumberedPort(80, endPort: 79)]), "spec.ingress[0].ports[0].endPort 79 must be between port 80 and 65535" },
        { "endPort too big", From(ports: [NumberedPort(80, endPort: 70000)]), "endPort 70000" },
        { "endPort after a name", From(ports: [new V1NetworkPolicyPort { Port = "http", EndPort = 90 }]), "endPort cannot follow the named port \"http\"" },
        { "endPort without port", From(ports: [new V1NetworkPolicyPort { EndPort = 90 }]), "endPort needs a numbered port" },
        { "upper-case name", From(ports: [NamedPort("HTTP")]), "neither a number nor a port name" },
        { "long name", From(ports: [NamedPort("a-very-long-port-name")]), "neither a number nor a port name" },
        { "double dash", From(ports: [NamedPort("a--b")]), "neither a number nor a port name" },
    };

    [Theory]
    [MemberData(nameof(BrokenRules))]
    public void ABrokenRuleIsLeftOutAndNamedButTheRestOfThePolicyStands(string what, V1NetworkPolicyIngressRule broken, string field)
    {
        var (facts, problems) = Parse(Policy("x", "p", Labels(("pod", "a")), ingress: [broken, From([Pods(Empty)])]));
        Assert.True(facts.AppliesToIngress, what);
        var rule = Assert.Single(facts.IngressRules);
        Assert.NotNull(rule.Peers);
        var problem = Assert.Single(problems);
        Assert.StartsWith("NetworkPolicy x/p: ", problem);
        Assert.Contains(field, problem);
        Assert.EndsWith("this rule allows nothing", problem);
    }

    [Fact]
    public void ABrokenPodSelectorIsolatesTheWholeNamespaceRatherThanNothing()
    {
        var (facts, problems) = Parse(Policy("x", "p", Expression("pod", "Near", "a"), ingress: [From()]));
        Assert.True(facts.PodSelector.SelectsEverything);
        Assert.Contains("spec.podSelector.matchExpressions[0].operator \"Near\"", Assert.Single(problems));
        Assert.Contains("isolating every pod of namespace x", problems[0]);
    }

    [Fact]
    public void UnknownPolicyTypesIsolateBothDirections()
    {
        var (facts, problems) = Parse(Policy("x", "p", Empty, ingress: [From()], policyTypes: ["Ingress", "Sideways"]));
        Assert.True(facts.AppliesToIngress);
        Assert.True(facts.AppliesToEgress);
        Assert.Contains("spec.policyTypes: \"Sideways\"", Assert.Single(problems));
    }

    [Fact]
    public void SelectorsMatchLabelsAndEveryExpressionOperator()
    {
        var selector = PolicySelector.Parse(new V1LabelSelector
        {
            MatchLabels = new Dictionary<string, string> { ["app"] = "web" },
            MatchExpressions =
            [
                new V1LabelSelectorRequirement { Key = "tier", OperatorProperty = "In", Values = ["front", "edge"] },
                new V1LabelSelectorRequirement { Key = "env", OperatorProperty = "NotIn", Values = ["prod"] },
                new V1LabelSelectorRequirement { Key = "team", OperatorProperty = "Exists" },
                new V1LabelSelectorRequirement { Key = "legacy", OperatorProperty = "DoesNotExist" },
            ],
        }, "s", out var error)!;
        Assert.Null(error);
        var good = new Dictionary<string, string> { ["app"] = "web", ["tier"] = "edge", ["team"] = "t" };
        Assert.True(selector.Matches(good));
        Assert.True(selector.Matches(new Dictionary<string, string>(good) { ["env"] = "dev" }));
        Assert.False(selector.Matches(new Dictionary<string, string>(good) { ["env"] = "prod" }));
        Assert.False(selector.Matches(new Dictionary<string, string>(good) { ["legacy"] = "" }));
        Assert.False(selector.Matches(new Dictionary<string, string>(good) { ["tier"] = "back" }));
        Assert.False(selector.Matches(new Dictionary<string, string>(good) { ["app"] = "db" }));
        Assert.False(selector.Matches(good.Where(p => p.Key != "team").ToDictionary()));
        Assert.True(PolicySelector.Everything.Matches(new Dictionary<string, string>()));
    }
}
