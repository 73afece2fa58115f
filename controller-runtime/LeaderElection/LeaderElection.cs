using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Trellis.ControllerRuntime.Clients;

namespace Trellis.ControllerRuntime.LeaderElection;

/// <summary>
/// Campaigns for a coordination.k8s.io/v1 Lease, as client-go's leaderelection does, and runs a delegate only while
/// holding it. When the lease is lost the delegate's token is cancelled and, once the delegate has returned, the
/// candidate campaigns again (the process stays up; whatever the delegate built — informers, queues — is rebuilt on
/// the next term). If the delegate returns or fails on its own, leadership is given up too. An API server that cannot
/// be reached delays a campaign, never ends the candidate. A leader that stops, or whose work ends, gives the lease up
/// once its work has returned, so a follower need not wait out the lease.
/// </summary>
public sealed class LeaderElection
{
    private readonly ApiClient _client;
    private readonly LeaderElectionOptions _options;
    private readonly ILogger _logger;
    private readonly string _lease;
    private string LeasesPath { get; }
    private string LeasePath { get; }
    private volatile bool _isLeader;

    // What this candidate last read of the lease, and when (its own clock) it saw the record change: a holder is
    // presumed gone only LeaseDuration after its record last changed, never by comparing clocks with it.
    private (string? Holder, DateTime? RenewTime, int? Transitions) _observed;
    private DateTime _observedAt;

    public LeaderElection(ApiClient client, LeaderElectionOptions options, ILogger? logger = null)
    {
        options.Validate();
        _client = client;
        _options = options;
        _logger = logger ?? NullLogger.Instance;
        _lease = $"{options.LeaseNamespace}/{options.LeaseName}";
        LeasesPath = $"/apis/coordination.k8s.io/v1/namespaces/{ApiHttp.Segment(options.LeaseNamespace)}/leases";
        LeasePath = $"{LeasesPath}/{ApiHttp.Segment(options.LeaseName)}";
    }

    public string Identity => _options.Identity;

    /// <summary>True while this candidate holds the lease and its delegate is meant to run.</summary>
    public bool IsLeader => _isLeader;

    /// <summary>Campaigns, and runs <paramref name="whileLeading"/> during each term, until <paramref name="cancellationToken"/> is cancelled.</summary>
    public async Task RunAsync(Func<CancellationToken, Task> whileLeading, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            if (!await AcquireAsync(cancellationToken).ConfigureAwait(false))
                break;
            await LeadAsync(whileLeading, cancellationToken).ConfigureAwait(false);
            if (!await DelayAsync(_options.RetryPeriod, cancellationToken).ConfigureAwait(false))
                break;
        }
    }

    /// <summary>Tries every RetryPeriod until the lease is this candidate's; false when stopped first.</summary>
    private async Task<bool> AcquireAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (await TryAcquireOrRenewAsync(cancellationToken).ConfigureAwait(false))
                    return true;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return false;
            }
            catch (Exception error)
            {
                _logger.LogWarning("leader election: {Identity} cannot campaign for lease {Lease}: {Error}; retrying in {Delay}",
                    Identity, _lease, error.GetBaseException().Message, _options.RetryPeriod);
            }
            if (!await DelayAsync(_options.RetryPeriod, cancellationToken).ConfigureAwait(false))
                return false;
        }
        return false;
    }

    /// <summary>One term: runs the work and renews every RetryPeriod until a renewal fails for RenewDeadline, the work ends, or the candidate stops.</summary>
    private async Task LeadAsync(Func<CancellationToken, Task> whileLeading, CancellationToken cancellationToken)
    {
        using var term = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _isLeader = true;
        _logger.LogInformation("leader election: {Identity} now leads lease {Lease}", Identity, _lease);
        var work = Task.Run(() => whileLeading(term.Token), CancellationToken.None);
        var renewed = DateTime.UtcNow;
        var lost = false;
        while (!term.IsCancellationRequested && !work.IsCompleted)
        {
            // Work that ends on its own must not keep the lease from a candidate that would do it.
            await Task.WhenAny(work, Task.Delay(_options.RetryPeriod, term.Token)).ConfigureAwait(false);
            if (work.IsCompleted || term.IsCancellationRequested)
                break;
            try
            {
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(term.Token);
                // Past the deadline already (a slow pass): the attempt is cancelled at once and the term ends as lost below.
                attempt.CancelAfter(TimeSpan.FromTicks(Math.Max(0, (_options.RenewDeadline - (DateTime.UtcNow - renewed)).Ticks)));
                if (await TryAcquireOrRenewAsync(attempt.Token).ConfigureAwait(false))
                {
                    renewed = DateTime.UtcNow;
                    continue;
                }
            }
            catch (OperationCanceledException) when (term.IsCancellationRequested)
            {
                break; // stopped while renewing: the work stops, then the lease is released
            }
            catch (Exception error)
            {
                _logger.LogWarning("leader election: {Identity} cannot renew lease {Lease}: {Error}", Identity, _lease, error.GetBaseException().Message);
            }
            if (DateTime.UtcNow - renewed >= _options.RenewDeadline || _observed.Holder != Identity)
            {
                _logger.LogWarning("leader election: {Identity} lost lease {Lease} (held by {Holder}, last renewed {Ago} ago)",
                    Identity, _lease, _observed.Holder ?? "nobody", DateTime.UtcNow - renewed);
                lost = true;
                break;
            }
        }
        _isLeader = false;
        term.Cancel();
        try
        {
            await work.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (term.IsCancellationRequested)
        {
        }
        catch (Exception error)
        {
            _logger.LogError(error, "leader election: work of {Identity} under lease {Lease} failed", Identity, _lease);
        }
        _logger.LogInformation("leader election: {Identity} stopped leading lease {Lease}", Identity, _lease);
        if (!lost)
            await ReleaseAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Reads the lease and writes this candidate into it when it is free, expired or already this candidate's (a renewal).
    /// A conflicting write (another candidate got there first) is a lost race, not an error.
    /// </summary>
    private async Task<bool> TryAcquireOrRenewAsync(CancellationToken cancellationToken)
    {
        var now = DateTime.UtcNow;
        V1Lease lease;
        try
        {
            lease = await ApiHttp.ReadAsync<V1Lease>(_client, LeasePath, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (HttpOperationException error) when (error.Response?.StatusCode == HttpStatusCode.NotFound)
        {
            var created = new V1Lease
            {
                ApiVersion = "coordination.k8s.io/v1",
                Kind = "Lease",
                Metadata = new V1ObjectMeta { Name = _options.LeaseName, NamespaceProperty = _options.LeaseNamespace },
                Spec = Held(new V1LeaseSpec { AcquireTime = now, LeaseTransitions = 0 }, now),
            };
            return await WriteAsync(() => ApiHttp.CreateAsync(_client, LeasesPath, created, cancellationToken))
                .ConfigureAwait(false);
        }

        var spec = lease.Spec ??= new V1LeaseSpec();
        Observe(spec, now);
        var holder = spec.HolderIdentity;
        if (!string.IsNullOrEmpty(holder) && holder != Identity && now < _observedAt + Duration(spec))
            return false;
        if (holder != Identity)
        {
            spec.AcquireTime = now;
            spec.LeaseTransitions = (spec.LeaseTransitions ?? 0) + 1;
        }
        Held(spec, now);
        return await WriteAsync(() => ApiHttp.ReplaceAsync(_client, LeasePath, lease, cancellationToken)).ConfigureAwait(false);
    }

    private V1LeaseSpec Held(V1LeaseSpec spec, DateTime now)
    {
        spec.HolderIdentity = Identity;
        spec.RenewTime = now;
        spec.LeaseDurationSeconds = (int)Math.Ceiling(_options.LeaseDuration.TotalSeconds);
        return spec;
    }

    /// <summary>The holder's own lease duration when it wrote one, this candidate's otherwise.</summary>
    private TimeSpan Duration(V1LeaseSpec spec) =>
        spec.LeaseDurationSeconds is > 0 and var seconds ? TimeSpan.FromSeconds(seconds) : _options.LeaseDuration;

    private async Task<bool> WriteAsync(Func<Task<V1Lease>> write)
    {
        V1Lease written;
        try
        {
            written = await write().ConfigureAwait(false);
        }
        catch (HttpOperationException error) when (error.Response?.StatusCode is HttpStatusCode.Conflict)
        {
            return false;
        }
        Observe(written.Spec, DateTime.UtcNow);
        return true;
    }

    private void Observe(V1LeaseSpec spec, DateTime now)
    {
        var record = (spec.HolderIdentity, spec.RenewTime, spec.LeaseTransitions);
        if (record == _observed)
            return;
        if (record.HolderIdentity != _observed.Holder && !string.IsNullOrEmpty(record.HolderIdentity))
            _logger.LogInformation("leader election: lease {Lease} is held by {Leader}", _lease, record.HolderIdentity);
        _observed = record;
        _observedAt = now;
    }

    /// <summary>Gives the lease up (empty holder) if this candidate still holds it, so a follower takes over at once.</summary>
    private async Task ReleaseAsync()
    {
        using var timeout = new CancellationTokenSource(_options.RenewDeadline);
        try
        {
            var lease = await ApiHttp.ReadAsync<V1Lease>(_client, LeasePath, timeout.Token)
                .ConfigureAwait(false);
            if (lease.Spec?.HolderIdentity != Identity)
                return;
            lease.Spec.HolderIdentity = null;
            lease.Spec.LeaseDurationSeconds = 1;
            lease.Spec.RenewTime = DateTime.UtcNow;
            await ApiHttp.ReplaceAsync(_client, LeasePath, lease, timeout.Token)
                .ConfigureAwait(false);
            _logger.LogInformation("leader election: {Identity} released lease {Lease}", Identity, _lease);
        }
        catch (Exception error)
        {
            // Not releasing only makes the next leader wait out the lease.
            _logger.LogWarning("leader election: {Identity} could not release lease {Lease}: {Error}", Identity, _lease, error.GetBaseException().Message);
        }
    }

    private static async Task<bool> DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
