using Trellis.Local.Cluster;
using Trellis.Local.Commands;
using Trellis.Local.Topology;
using Xunit;

namespace Trellis.Local.Tests;

public sealed class CommandLineTests
{
    private static readonly HashSet<string> Valued = ["--nodes", "--routing"];
    private static readonly HashSet<string> Switches = ["--json"];

    [Fact]
    public void Reads_values_switches_and_positionals()
    {
        var line = new CommandLine(["add", "--nodes", "4", "--routing=VXLAN", "--json", "node9"], Valued, Switches);
        Assert.Equal(["add", "node9"], line.Positional);
        Assert.Equal(4, line.GetInt("--nodes", 3));
        Assert.Equal("VXLAN", line.Get("--routing"));
        Assert.True(line.Has("--json"));
    }

    [Theory]
    [InlineData("--bogus", "unknown flag --bogus")]
    [InlineData("--nodes", "--nodes needs a value")]
    public void Refuses_what_it_does_not_know(string arg, string message) =>
        Assert.Equal(message, Assert.Throws<UsageException>(() => new CommandLine([arg], Valued, Switches)).Message);

    [Fact]
    public void A_number_that_is_not_one_is_named() =>
        Assert.Contains("whole number", Assert.Throws<UsageException>(() => new CommandLine(["--nodes", "three"], Valued, Switches).GetInt("--nodes", 3)).Message);

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
}
