using k8s;
using Trellis.ControllerRuntime.Clients;
using Trellis.ControllerRuntime.LeaderElection;
using Trellis.ControllerRuntime.Tests.Cluster;
using Xunit;
using Election = Trellis.ControllerRuntime.LeaderElection.LeaderElection;

namespace Trellis.ControllerRuntime.Tests.LeaderElection;

public sealed class LeaderElectionTests
{
    private static LeaderElectionOptions Options(string identity) => new()
    {
        LeaseNamespace = "kube-system",
        LeaseName = "controller-runtime-test",
        Identity = identity,
        // Short enough for a quick hand-over, long enough that a busy 2-core machine still renews in time.
        LeaseDuration = TimeSpan.FromSeconds(4),
        RenewDeadline = TimeSpan.FromSeconds(3),
        RetryPeriod = TimeSpan.FromMilliseconds(250),
    };

    /// <summary>The delegate both candidates run: counts how many run at once and who ran.</summary>
    private sealed class Work
    {
        private int _running;
        public int MaxRunning;
        public readonly List<string> Terms = new();

        public Func<CancellationToken, Task> For(string identity) => async token =>
        {
            var now = Interlocked.Increment(ref _running);
            lock (Terms)
            {
                MaxRunning = Math.Max(MaxRunning, now);
                Terms.Add(identity);
            }
            try
            {
                await Task.Delay(Timeout.Infinite, token);
            }
            finally
            {
                Interlocked.Decrement(ref _running);
            }
        };

        public int Running => Volatile.Read(ref _running);
    }

    [Fact]
    public async Task OnlyOneCandidateLeadsAndTheOtherTakesOverWhenItStops()
    {
        await using var cluster = await TestCluster.StartAsync();
        var work = new Work();
        var a = new Election(cluster.Api, Options("candidate-a"));
        var b = new Election(cluster.Api, Options("candidate-b"));
        using var stopA = new CancellationTokenSource();
        using var stopB = new CancellationTokenSource();
        var runA = a.RunAsync(work.For("candidate-a"), stopA.Token);
        var runB = b.RunAsync(work.For("candidate-b"), stopB.Token);

        await TestCluster.Eventually(() => a.IsLeader || b.IsLeader, "one candidate leads");
        var (leader, follower, stopLeader, runLeader) = a.IsLeader ? (a, b, stopA, runA) : (b, a, stopB, runB);
        // Several renewals later, still exactly one leader.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.True(leader.IsLeader);
        Assert.False(follower.IsLeader);
        Assert.Equal(1, work.Running);

        var lease = await cluster.Client.CoordinationV1.ReadNamespacedLeaseAsync("controller-runtime-test", "kube-system");
        Assert.Equal(leader.Identity, lease.Spec.HolderIdentity);

        stopLeader.Cancel();
        await runLeader.WaitAsync(TestCluster.Patience);
        Assert.False(leader.IsLeader);
        await TestCluster.Eventually(() => follower.IsLeader, "the follower takes over");
        await TestCluster.Eventually(() => work.Running == 1, "the follower's work runs");

        (a.IsLeader ? stopA : stopB).Cancel();
        await Task.WhenAll(runA, runB).WaitAsync(TestCluster.Patience);
        Assert.Equal(0, work.Running);
        Assert.Equal(1, work.MaxRunning);
        Assert.Equal(new[] { leader.Identity, follower.Identity }, work.Terms);
    }

    [Fact]
    public async Task WorkThatEndsOnItsOwnGivesTheLeaseUpAndIsStartedAgainNextTerm()
    {
        await using var cluster = await TestCluster.StartAsync();
        var terms = 0;
        var election = new Election(cluster.Api, Options("only"));
        using var stop = new CancellationTokenSource();
        var run = election.RunAsync(_ =>
        {
            Interlocked.Increment(ref terms);
            throw new InvalidOperationException("work failed at start");
        }, stop.Token);
        await TestCluster.Eventually(() => Volatile.Read(ref terms) >= 2, "a second term starts the work again");
        stop.Cancel();
        await run.WaitAsync(TestCluster.Patience);
        Assert.False(election.IsLeader);
    }

    [Fact]
    public async Task HostedServiceRunsTheWorkOnlyWhileLeading()
    {
        await using var cluster = await TestCluster.StartAsync();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var service = new LeaderElectedService(new Election(cluster.Api, Options("hosted")), async token =>
        {
            started.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, token);
            }
            finally
            {
                stopped.TrySetResult();
            }
        });
        await service.StartAsync(CancellationToken.None);
        await started.Task.WaitAsync(TestCluster.Patience);
        Assert.True(service.IsLeader);
        await service.StopAsync(CancellationToken.None).WaitAsync(TestCluster.Patience);
        await stopped.Task.WaitAsync(TestCluster.Patience);
        Assert.False(service.IsLeader);
        service.Dispose();
    }

    [Fact]
    public async Task ALeaderThatStopsReleasesTheLeaseSoTheFollowerNeedNotWaitItOut()
    {
        await using var cluster = await TestCluster.StartAsync();
        // A lease far longer than the test's patience: only a release lets the follower in before it.
        var slow = Options("first") with { LeaseDuration = TimeSpan.FromSeconds(60), RenewDeadline = TimeSpan.FromSeconds(40) };
        var first = new Election(cluster.Api, slow);
        using var stopFirst = new CancellationTokenSource();
        var runFirst = first.RunAsync(token => Task.Delay(Timeout.Infinite, token), stopFirst.Token);
        await TestCluster.Eventually(() => first.IsLeader, "the first candidate leads");
        var second = new Election(cluster.Api, slow with { Identity = "second" });
        using var stopSecond = new CancellationTokenSource();
        var runSecond = second.RunAsync(token => Task.Delay(Timeout.Infinite, token), stopSecond.Token);
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.False(second.IsLeader);

        stopFirst.Cancel();
        await runFirst.WaitAsync(TestCluster.Patience);
        await TestCluster.Eventually(() => second.IsLeader, "the follower takes the released lease");
        var lease = await cluster.Client.CoordinationV1.ReadNamespacedLeaseAsync("controller-runtime-test", "kube-system");
        Assert.Equal("second", lease.Spec.HolderIdentity);
        Assert.Equal(1, lease.Spec.LeaseTransitions); // first (0) to second; a release is no transition
        stopSecond.Cancel();
        await runSecond.WaitAsync(TestCluster.Patience);
    }

    /// <summary>KubernetesClient's own elector (as another client-go-style candidate would be) and ours share a lease, one leader at a time.</summary>
    [Fact]
    public async Task ACandidateOfAnotherImplementationOnTheSameLeaseIsRespected()
    {
        await using var cluster = await TestCluster.StartAsync();
        using var foreign = new k8s.LeaderElection.LeaderElector(new k8s.LeaderElection.LeaderElectionConfig(
            new k8s.LeaderElection.ResourceLock.LeaseLock(cluster.Client, "kube-system", "controller-runtime-test", "foreign"))
        {
            LeaseDuration = TimeSpan.FromSeconds(4),
            RenewDeadline = TimeSpan.FromSeconds(3),
            RetryPeriod = TimeSpan.FromMilliseconds(250),
        });
        using var stopForeign = new CancellationTokenSource();
        var runForeign = foreign.RunUntilLeadershipLostAsync(stopForeign.Token);
        await TestCluster.Eventually(() => foreign.IsLeader(), "the foreign candidate leads");

        var ours = new Election(cluster.Api, Options("ours"));
        using var stopOurs = new CancellationTokenSource();
        var runOurs = ours.RunAsync(token => Task.Delay(Timeout.Infinite, token), stopOurs.Token);
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.True(foreign.IsLeader());
        Assert.False(ours.IsLeader);

        // The foreign leader stops renewing without releasing: ours takes over once the lease has run out.
        await stopForeign.CancelAsync();
        await runForeign.ContinueWith(_ => { });
        await TestCluster.Eventually(() => ours.IsLeader, "ours takes over the expired lease");
        stopOurs.Cancel();
        await runOurs.WaitAsync(TestCluster.Patience);
    }

    /// <summary>A leader stopped while a renewal is in flight (here every renewal takes 300 ms) ends quietly and still releases.</summary>
    [Fact]
    public async Task ALeaderStoppedInTheMiddleOfARenewalStopsWithoutAnError()
    {
        await using var cluster = await TestCluster.StartAsync();
        using var slowClient = ApiClient.Connect(new KubernetesClientConfiguration
        {
            Host = cluster.Server.BaseAddress.ToString(), AccessToken = cluster.Server.AdminToken, SslCaCerts = [cluster.Server.CertificateAuthority],
        }, new SlowLeaseWrites(TimeSpan.FromMilliseconds(300)));
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var election = new Election(slowClient, Options("slow") with { RetryPeriod = TimeSpan.FromMilliseconds(100) });
            using var stop = new CancellationTokenSource();
            var run = election.RunAsync(token => Task.Delay(Timeout.Infinite, token), stop.Token);
            await TestCluster.Eventually(() => election.IsLeader, "the candidate leads");
            await Task.Delay(TimeSpan.FromMilliseconds(250)); // a renewal is on its way now
            stop.Cancel();
            await run.WaitAsync(TestCluster.Patience);
            Assert.False(election.IsLeader);
            var lease = await cluster.Client.CoordinationV1.ReadNamespacedLeaseAsync("controller-runtime-test", "kube-system");
            Assert.True(string.IsNullOrEmpty(lease.Spec.HolderIdentity), $"attempt {attempt}: the lease is still held by {lease.Spec.HolderIdentity}");
        }
    }

    private sealed class SlowLeaseWrites(TimeSpan delay) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Method == HttpMethod.Put && request.RequestUri!.AbsolutePath.Contains("/leases/")) await Task.Delay(delay, cancellationToken);
            return await base.SendAsync(request, cancellationToken);
        }
    }
}
