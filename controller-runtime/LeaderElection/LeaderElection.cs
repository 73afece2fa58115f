using k8s;
using k8s.LeaderElection;
using k8s.LeaderElection.ResourceLock;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Trellis.ControllerRuntime.LeaderElection;

/// <summary>
/// Campaigns for a Lease with KubernetesClient's <see cref="LeaderElector"/> and runs a delegate only while
/// holding it. When the lease is lost the delegate's token is cancelled and, once the delegate has returned,
/// the candidate campaigns again (the process stays up; whatever the delegate built — informers, queues — is
/// rebuilt on the next term). If the delegate returns or fails on its own, leadership is given up too. An API
/// server that cannot be reached ends a campaign, never the candidate: it campaigns again until it is stopped.
/// </summary>
public sealed class LeaderElection
{
    private readonly IKubernetes _client;
    private readonly LeaderElectionOptions _options;
    private readonly ILogger _logger;
    private volatile bool _isLeader;

    public LeaderElection(IKubernetes client, LeaderElectionOptions options, ILogger? logger = null)
    {
        options.Validate();
        _client = client;
        _options = options;
        _logger = logger ?? NullLogger.Instance;
    }

    public string Identity => _options.Identity;

    /// <summary>True while this candidate holds the lease and its delegate is meant to run.</summary>
    public bool IsLeader => _isLeader;

    /// <summary>Campaigns, and runs <paramref name="whileLeading"/> during each term, until <paramref name="cancellationToken"/> is cancelled.</summary>
    public async Task RunAsync(Func<CancellationToken, Task> whileLeading, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            await RunTermAsync(whileLeading, cancellationToken).ConfigureAwait(false);
            if (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(_options.RetryPeriod, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    private async Task RunTermAsync(Func<CancellationToken, Task> whileLeading, CancellationToken cancellationToken)
    {
        var lease = $"{_options.LeaseNamespace}/{_options.LeaseName}";
        var leaseLock = new LeaseLock(_client, _options.LeaseNamespace, _options.LeaseName, _options.Identity);
        using var elector = new LeaderElector(new LeaderElectionConfig(leaseLock)
        {
            LeaseDuration = _options.LeaseDuration,
            RenewDeadline = _options.RenewDeadline,
            RetryPeriod = _options.RetryPeriod,
        });
        using var campaign = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var term = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task? work = null;
        Task? workEnded = null;

        elector.OnStartedLeading += () =>
        {
            _isLeader = true;
            _logger.LogInformation("leader election: {Identity} now leads lease {Lease}", _options.Identity, lease);
            work = Task.Run(() => whileLeading(term.Token));
            // Work that ends on its own must not keep the lease from a candidate that would do it.
            workEnded = work.ContinueWith(_ => campaign.Cancel(), TaskScheduler.Default);
        };
        elector.OnStoppedLeading += () =>
        {
            _isLeader = false;
            term.Cancel();
        };
        elector.OnError += error => _logger.LogWarning(error, "leader election: {Identity} on lease {Lease}", _options.Identity, lease);
        elector.OnNewLeader += leader => _logger.LogInformation("leader election: lease {Lease} is held by {Leader}", lease, leader);

        try
        {
            await elector.RunUntilLeadershipLostAsync(campaign.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (campaign.IsCancellationRequested)
        {
        }
        catch (Exception error) when (!cancellationToken.IsCancellationRequested)
        {
            // The elector lets a failed read of the lease escape while campaigning (the API server is down or
            // unreachable): that ends this campaign, not the candidate; RunAsync campaigns again after RetryPeriod.
            _logger.LogWarning("leader election: {Identity} cannot campaign for lease {Lease}: {Error}; retrying in {Delay}",
                _options.Identity, lease, error.GetBaseException().Message, _options.RetryPeriod);
        }
        finally
        {
            _isLeader = false;
            term.Cancel();
        }

        if (work is null)
            return;
        try
        {
            await work.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (term.IsCancellationRequested)
        {
        }
        catch (Exception error)
        {
            _logger.LogError(error, "leader election: work of {Identity} under lease {Lease} failed", _options.Identity, lease);
        }
        // The continuation cancels the campaign source, which must outlive it.
        await workEnded!.ConfigureAwait(false);
        _logger.LogInformation("leader election: {Identity} stopped leading lease {Lease}", _options.Identity, lease);
    }
}
