using Trellis.Operator.Hosting;
using Xunit;

namespace Trellis.Operator.Tests.Hosting;

public sealed class OperatorOptionsValidatorTests
{
    [Fact]
    public void Defaults_are_valid_when_a_client_is_given()
    {
        OperatorOptionsValidator.EnsureValid(new OperatorOptions(), includeConnection: false);
    }

    [Fact]
    public void Every_problem_is_named_in_one_error()
    {
        var options = new OperatorOptions
        {
            Kubeconfig = "/nonexistent/kubeconfig",
            LeaderElectionNamespace = "",
            Workers = 0,
            HealthPort = 70000,
            RenewDeadline = TimeSpan.FromSeconds(30),
        };
        var error = Assert.Throws<ArgumentException>(() => OperatorOptionsValidator.EnsureValid(options, includeConnection: true));
        foreach (var expected in new[] { "/nonexistent/kubeconfig", "--leader-election-namespace", "--workers 0", "--health-port 70000", "renew deadline" })
            Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Leader_election_settings_are_not_checked_when_it_is_off()
    {
        OperatorOptionsValidator.EnsureValid(new OperatorOptions { LeaderElect = false, LeaderElectionNamespace = "", Identity = "" }, includeConnection: false);
    }

    [Fact]
    public void Without_a_kubeconfig_outside_a_cluster_the_connection_rule_fails()
    {
        if (Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST") is not null) return;
        var error = Assert.Throws<ArgumentException>(() => OperatorOptionsValidator.EnsureValid(new OperatorOptions(), includeConnection: true));
        Assert.Contains("not running in a cluster", error.Message);
    }
}
