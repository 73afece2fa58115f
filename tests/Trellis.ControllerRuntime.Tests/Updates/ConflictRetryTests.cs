using System.Globalization;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Trellis.ControllerRuntime.Tests.Cluster;
using Trellis.ControllerRuntime.Updates;
using Xunit;

namespace Trellis.ControllerRuntime.Tests.Updates;

public sealed class ConflictRetryTests
{
    private const string Counter = "test/counter";

    private static int CounterOf(V1Node node) =>
        node.Metadata.Annotations?.TryGetValue(Counter, out var value) == true ? int.Parse(value, CultureInfo.InvariantCulture) : 0;

    private static Task<V1Node> IncrementAsync(IKubernetes client, string name, int attempts) =>
        ConflictRetry.UpdateAsync(
            ct => client.CoreV1.ReadNodeAsync(name, cancellationToken: ct),
            node =>
            {
                node.Metadata.Annotations ??= new Dictionary<string, string>();
                node.Metadata.Annotations[Counter] = (CounterOf(node) + 1).ToString(CultureInfo.InvariantCulture);
                return true;
            },
            (node, ct) => client.CoreV1.ReplaceNodeAsync(node, name, cancellationToken: ct),
            CancellationToken.None,
            attempts);

    [Fact]
    public async Task ConcurrentWritersLoseNoIncrement()
    {
        await using var cluster = await TestCluster.StartAsync();
        await cluster.CreateNodeAsync("node-a");
        const int writers = 6;
        const int incrementsEach = 10;

        await Task.WhenAll(Enumerable.Range(0, writers).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < incrementsEach; i++)
                await IncrementAsync(cluster.Client, "node-a", attempts: 200);
        })));

        Assert.Equal(writers * incrementsEach, CounterOf(await cluster.Client.CoreV1.ReadNodeAsync("node-a")));
    }

    [Fact]
    public async Task AStaleWriteReallyConflictsAndTheRetryReappliesTheChange()
    {
        await using var cluster = await TestCluster.StartAsync();
        await cluster.CreateNodeAsync("node-a");
        var reads = 0;

        var result = await ConflictRetry.UpdateAsync(
            async ct =>
            {
                var node = await cluster.Client.CoreV1.ReadNodeAsync("node-a", cancellationToken: ct);
                // A concurrent writer slips in after the first read, so the first write is stale.
                if (Interlocked.Increment(ref reads) == 1)
                    await cluster.LabelNodeAsync("node-a", "other-writer", "was-here");
                return node;
            },
            node =>
            {
                node.Metadata.Labels ??= new Dictionary<string, string>();
                node.Metadata.Labels["mine"] = "yes";
                return true;
            },
            (node, ct) => cluster.Client.CoreV1.ReplaceNodeAsync(node, "node-a", cancellationToken: ct),
            CancellationToken.None);

        Assert.Equal(2, reads);
        Assert.Equal("yes", result.Metadata.Labels["mine"]);
        Assert.Equal("was-here", result.Metadata.Labels["other-writer"]);
    }

    [Fact]
    public async Task NoChangeMeansNoWrite()
    {
        await using var cluster = await TestCluster.StartAsync();
        var created = await cluster.CreateNodeAsync("node-a");
        var writesBefore = cluster.Server.Metrics.Writes;

        var result = await ConflictRetry.UpdateAsync(
            ct => cluster.Client.CoreV1.ReadNodeAsync("node-a", cancellationToken: ct),
            _ => false,
            (node, ct) => cluster.Client.CoreV1.ReplaceNodeAsync(node, "node-a", cancellationToken: ct),
            CancellationToken.None);

        Assert.Equal(created.Metadata.ResourceVersion, result.Metadata.ResourceVersion);
        Assert.Equal(writesBefore, cluster.Server.Metrics.Writes);
    }

    [Fact]
    public async Task GivesUpAfterTheLastAttemptWithTheConflict()
    {
        var attempts = 0;
        var error = await Assert.ThrowsAsync<HttpOperationException>(() => ConflictRetry.RetryAsync<int>(_ =>
        {
            attempts++;
            throw new HttpOperationException("conflict")
            {
                Response = new HttpResponseMessageWrapper(new HttpResponseMessage(System.Net.HttpStatusCode.Conflict), "conflict"),
            };
        }, CancellationToken.None, attempts: 3));
        Assert.Equal(3, attempts);
        Assert.True(ConflictRetry.IsConflict(error));
    }

    [Fact]
    public async Task OtherErrorsAreNotRetried()
    {
        var attempts = 0;
        await Assert.ThrowsAsync<InvalidOperationException>(() => ConflictRetry.RetryAsync<int>(_ =>
        {
            attempts++;
            throw new InvalidOperationException("broken");
        }, CancellationToken.None));
        Assert.Equal(1, attempts);
    }
}
