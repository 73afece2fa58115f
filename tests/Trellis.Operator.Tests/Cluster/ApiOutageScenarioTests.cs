using System.Net;
using Trellis.Operator.Hosting;
using Trellis.Testing;
using Xunit;

namespace Trellis.Operator.Tests.Cluster;

/// <summary>The API server goes away (connections refused and reset, through a relay) and comes back.</summary>
public sealed class ApiOutageScenarioTests
{
    [Fact]
    public async Task An_operator_keeps_running_through_an_API_outage_and_resumes_when_it_returns()
    {
        await using var cluster = await OperatorCluster.StartAsync();
        await cluster.CreateNetworkAsync("default", ["10.244.0.0/16"]);
        await cluster.CreateNodeAsync("n1", "192.168.1.11");
        await using var relay = new TcpRelay(new IPEndPoint(IPAddress.Loopback, cluster.Server.BaseAddress.Port));
        var replica = cluster.StartOperator(new OperatorOptions
        {
            LeaderElect = true,
            LeaseDuration = TimeSpan.FromSeconds(3),
            RenewDeadline = TimeSpan.FromSeconds(2),
            RetryPeriod = TimeSpan.FromMilliseconds(250),
        }, through: relay.Address);
        await cluster.BlocksEventuallyAsync("default", 1);
        Assert.True(relay.Connections > 0);

        // Longer than the lease: the leader loses it, and every campaign meanwhile fails to reach the server.
        relay.Cut();
        await Task.Delay(TimeSpan.FromSeconds(6));
        Assert.False(replica.Running.IsCompleted, $"the operator stopped during the outage: {replica.Running.Exception?.GetBaseException().Message}");
        Assert.True(replica.Operator.State.Started);
        await cluster.CreateNodeAsync("n2", "192.168.1.12");

        relay.Restore();
        await cluster.BlocksEventuallyAsync("default", 2);
        await OperatorCluster.EventuallyAsync(() => Task.FromResult(replica.Operator.State.Leading), leading => leading, "the operator to lead again");
    }
}
