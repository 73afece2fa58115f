using Trellis.Local.Cluster;
using Trellis.Local.Commands;
using Trellis.Local.Topology;
using Xunit;

namespace Trellis.Local.Tests;

public sealed class CommandLineTests
{
    private static readonly Func<System.CommandLine.ParseResult, CancellationToken, Task<int>> Nothing = (_, _) => Task.FromResult(0);

    private static System.CommandLine.ParseResult Parse(params string[] args) =>
        LocalCommandLine.Command(Nothing, Nothing, Nothing, Nothing, Nothing, Nothing, Nothing, Nothing, Nothing, Nothing, Nothing, Nothing).Parse(args);

    [Fact]
    public void Reads_flags_in_both_forms_switches_and_arguments()
    {
        var up = Parse("run", "--nodes", "4", "--routing=vxlan", "--topology", "Mixed", "--json", "--prefix", "tl1");
        Assert.Empty(up.Errors);
        var cluster = LocalCommandLine.BindCluster(up);
        Assert.Equal((4, "VXLAN", TopologyKind.Mixed, true, "tl1", 2), (cluster.Nodes, cluster.Routing, cluster.Topology, cluster.Json, cluster.Prefix, cluster.PodsPerNode));

        Assert.Equal("bird", LocalCommandLine.BindCluster(Parse("up", "--routing", "BGP", "--router", "BIRD")).Router);
        var probe = LocalCommandLine.BindProbe(Parse("probe", "x/a", "x/c", "--port", "81", "--protocol", "udp"));
        Assert.Equal(("x/a", "x/c", 81, "UDP"), (probe.From, probe.To, probe.Port, probe.Protocol));
        Assert.Equal("node9", LocalCommandLine.BindNode(Parse("node", "add", "node9")).Node);
        var stop = LocalCommandLine.BindNodeComponent(Parse("node", "stop", "node2", "kubelet", "--kill"));
        Assert.Equal(("node2", NodeComponent.Kubelet, true), (stop.Node, stop.Component, stop.Kill));
    }

    [Theory]
    [InlineData("up --bogus", "--bogus")]
    [InlineData("up --nodes", "--nodes")]
    [InlineData("up --nodes three", "three")]
    [InlineData("up --topology ring", "--topology must be l2, routed or mixed, not \"ring\"")]
    [InlineData("probe x/a", "probe")]
    [InlineData("node move n1", "move")]
    [InlineData("node stop n1 scheduler", "agent and kubelet")]
    public void Refuses_what_it_does_not_know_naming_it(string line, string named) =>
        Assert.Contains(Parse(line.Split(' ')).Errors, e => e.Message.Contains(named));

    [Fact]
    public void Status_and_probe_options_are_checked_before_anything_runs()
    {
        Assert.Contains(new StatusOptionsValidator().Validate(LocalCommandLine.BindStatus(Parse("status", "--port", "80"))).Errors,
            e => e.ErrorMessage.Contains("--ports"));
        var probe = new ProbeOptionsValidator().Validate(LocalCommandLine.BindProbe(Parse("probe", "a/b", "c/d", "--port", "70000", "--protocol", "ICMP", "--timeout", "0")));
        foreach (var flag in new[] { "--port", "--protocol", "--timeout" })
            Assert.Contains(probe.Errors, e => e.ErrorMessage.Contains(flag));
    }

    [Fact]
    public void Options_explain_every_problem()
    {
        var options = new LocalClusterOptions
        {
            Nodes = 0, PodsPerNode = -1, Routing = "Carrier-Pigeon", Topology = TopologyKind.L2,
            NetworkFile = "/nonexistent.yaml", AgentPath = "/nonexistent/agent", CniPluginPath = "/nonexistent/cni", Prefix = "Bad Prefix",
        };
        var problems = options.Problems().ToList();
        Assert.Contains(problems, p => p.Contains("--nodes"));
        Assert.Contains(problems, p => p.Contains("--pods-per-node"));
        Assert.Contains(problems, p => p.Contains("--routing"));
        Assert.Contains(problems, p => p.Contains("--network"));
        Assert.Contains(problems, p => p.Contains("agent binary"));
        Assert.Contains(problems, p => p.Contains("CNI plugin"));
        Assert.Contains(problems, p => p.Contains("--prefix"));
    }

    [Fact]
    public void Direct_routing_needs_one_L2_segment()
    {
        var options = new LocalClusterOptions { Routing = "Direct", Topology = TopologyKind.Routed };
        Assert.Contains(options.Problems(), p => p.Contains("Direct needs every node on one L2 segment"));
    }

    [Fact]
    public void A_router_goes_with_BGP_by_default_and_with_any_mode_when_asked()
    {
        Assert.Equal("frr", new LocalClusterOptions { Routing = "BGP" }.RouterKind);
        Assert.Equal("bird", new LocalClusterOptions { Routing = "BGP", Router = "bird" }.RouterKind);
        Assert.Equal("bird", new LocalClusterOptions { Routing = "Direct", Router = "bird" }.RouterKind);
        Assert.Null(new LocalClusterOptions { Routing = "VXLAN" }.RouterKind);
        Assert.Contains(new LocalClusterOptions { Routing = "VXLAN", Router = "quagga" }.Problems(), p => p.Contains("--router must be one of frr, bird, not quagga"));
    }
}
