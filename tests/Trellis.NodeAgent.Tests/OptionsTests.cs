using Trellis.Addressing;
using Trellis.NodeAgent.Planning;

namespace Trellis.NodeAgent.Tests;

public sealed class OptionsTests
{
    [Theory]
    [InlineData("30s", 30_000)]
    [InlineData("1m30s", 90_000)]
    [InlineData("250ms", 250)]
    [InlineData("2h", 7_200_000)]
    [InlineData("00:00:05", 5_000)]
    public void Durations_parse_in_go_and_dotnet_forms(string text, double milliseconds)
    {
        Assert.True(Duration.TryParse(text, out var value));
        Assert.Equal(milliseconds, value.TotalMilliseconds);
    }

    [Theory]
    [InlineData("")]
    [InlineData("30")]
    [InlineData("5x")]
    [InlineData("s")]
    public void Bad_durations_are_refused(string text) => Assert.False(Duration.TryParse(text, out _));

    [Fact]
    public void Valid_options_pass()
    {
        var source = Path.GetTempFileName();
        try
        {
            var options = new AgentOptions { NodeName = "node1", CniPluginSource = source };
            Assert.True(new AgentOptionsValidator().Validate(options).IsValid);
        }
        finally
        {
            File.Delete(source);
        }
    }

    [Fact]
    public void Each_bad_option_is_named()
    {
        var options = new AgentOptions
        {
            NodeName = "",
            CniConfDir = "relative/dir",
            ResyncPeriod = "soon",
            ReclaimGracePeriod = "0s",
            Bridge = "a-name-far-too-long",
            CniPluginSource = "/nonexistent/trellis-cni",
            Kubeconfig = "/nonexistent/kubeconfig",
        };
        var result = new AgentOptionsValidator().Validate(options);
        Assert.False(result.IsValid);
        foreach (var flag in new[] { "--node-name", "--cni-conf-dir", "--resync-period", "--reclaim-grace-period", "--bridge", "--cni-plugin-source", "--kubeconfig" })
            Assert.Contains(result.Errors, f => f.ErrorMessage.Contains(flag));
    }

    [Fact]
    public void Flags_bind_to_options_and_unknown_flags_are_found()
    {
        var parse = AgentCommandLine.Command().Parse(["--node-name", "n", "--bridge=br0", "--resync-period=5m"]);
        Assert.Empty(parse.Errors);
        var options = AgentCommandLine.Bind(parse);
        Assert.Equal(("n", "br0", "5m", "/etc/cni/net.d"), (options.NodeName, options.Bridge, options.ResyncPeriod, options.CniConfDir));
        Assert.Equal(TimeSpan.FromSeconds(60), options.ReclaimGrace);
        Assert.Equal(TimeSpan.FromSeconds(90), AgentCommandLine.Bind(AgentCommandLine.Command().Parse(["--reclaim-grace-period", "1m30s"])).ReclaimGrace);
        Assert.Contains(AgentCommandLine.Command().Parse(["--nodename", "n"]).Errors, e => e.Message.Contains("--nodename"));
    }

    [Fact]
    public void Underlay_is_the_interface_holding_a_node_address()
    {
        var kernel = new[]
        {
            new InterfaceAddress(1, IpPrefix.Parse("127.0.0.1/8")),
            new InterfaceAddress(2, IpPrefix.Parse("192.168.1.11/24")),
            new InterfaceAddress(2, IpPrefix.Parse("fe80::1/64")),
            new InterfaceAddress(2, IpPrefix.Parse("fd00::11/64")),
        };
        Assert.True(UnderlayLocator.TryLocate("node1", [System.Net.IPAddress.Parse("192.168.1.11")], kernel, out var primary, out _));
        Assert.Equal(2, primary.LinkIndex);
        Assert.Equal([IpPrefix.Parse("fd00::11/64")], UnderlayLocator.SiblingsOf(primary, kernel));

        Assert.False(UnderlayLocator.TryLocate("node1", [System.Net.IPAddress.Parse("192.168.9.9")], kernel, out _, out var error));
        Assert.Contains("node1", error);
        Assert.Contains("192.168.9.9", error);
    }
}

/// <summary>The real agent binary refuses bad flags before it touches anything.</summary>
public sealed class AgentCommandLineTests
{
    private static Trellis.Testing.CommandResult RunAgent(params string[] args) =>
        Trellis.Testing.Shell.Run(Trellis.Testing.RepositoryRoot.AgentBinary, args, timeout: TimeSpan.FromSeconds(60));

    [Fact]
    public void Help_lists_every_flag()
    {
        var result = RunAgent("--help");
        Assert.Equal(0, result.ExitCode);
        foreach (var flag in new[] { "--kubeconfig", "--node-name", "--cni-conf-dir", "--cni-bin-dir", "--state-dir", "--cni-plugin-source", "--resync-period", "--reclaim-grace-period", "--bridge" })
            Assert.Contains(flag, result.StandardOutput);
    }

    [Fact]
    public void An_unknown_flag_is_named_and_refused()
    {
        var result = RunAgent("--node-name=n1", "--resync=5s");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--resync", result.StandardError);
    }

    [Fact]
    public void Invalid_values_are_named_and_refused()
    {
        var result = RunAgent("--node-name=n1", "--resync-period=soon", "--cni-plugin-source=/nonexistent/trellis-cni", "--kubeconfig=/nonexistent/kubeconfig");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--resync-period \"soon\"", result.StandardError);
        Assert.Contains("/nonexistent/trellis-cni", result.StandardError);
    }
}
