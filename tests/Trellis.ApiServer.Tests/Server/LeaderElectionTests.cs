using k8s;
using k8s.LeaderElection;
using k8s.LeaderElection.ResourceLock;

namespace Trellis.ApiServer.Tests.Server;

public sealed class LeaderElectionTests
{
    [Fact]
    public async Task TwoCandidatesOnOneLeaseElectOneLeader()
    {
        await using var t = await TestServer.StartAsync();
        LeaderElector Candidate(string identity) => new(new LeaderElectionConfig(new LeaseLock(t.Client, "kube-system", "trellis-operator", identity))
        {
            LeaseDuration = TimeSpan.FromSeconds(15),
            RenewDeadline = TimeSpan.FromSeconds(10),
            RetryPeriod = TimeSpan.FromMilliseconds(200),
        });
        using var first = Candidate("first");
        using var second = Candidate("second");
        using var stop = new CancellationTokenSource();
        var leaders = 0;
        first.OnStartedLeading += () => Interlocked.Increment(ref leaders);
        second.OnStartedLeading += () => Interlocked.Increment(ref leaders);
        var runs = new[] { first.RunUntilLeadershipLostAsync(stop.Token), second.RunUntilLeadershipLostAsync(stop.Token) };

        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!first.IsLeader() && !second.IsLeader() && DateTime.UtcNow < deadline) await Task.Delay(100);
        await Task.Delay(1500);
        Assert.True(first.IsLeader() ^ second.IsLeader());
        Assert.Equal(1, Volatile.Read(ref leaders));
        var lease = await t.Client.CoordinationV1.ReadNamespacedLeaseAsync("trellis-operator", "kube-system");
        Assert.Equal(first.IsLeader() ? "first" : "second", lease.Spec.HolderIdentity);

        await stop.CancelAsync();
        await Task.WhenAll(runs.Select(r => r.ContinueWith(_ => { })));
    }
}
