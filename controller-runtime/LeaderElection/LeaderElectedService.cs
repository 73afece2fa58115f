using Microsoft.Extensions.Hosting;

namespace Trellis.ControllerRuntime.LeaderElection;

/// <summary>
/// Hosts an app's controllers behind leader election: <paramref name="whileLeading"/> starts when this
/// replica wins the lease and is cancelled when it loses it or the host stops.
/// </summary>
public sealed class LeaderElectedService(LeaderElection election, Func<CancellationToken, Task> whileLeading) : BackgroundService
{
    public bool IsLeader => election.IsLeader;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => election.RunAsync(whileLeading, stoppingToken);
}
