using k8s;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Trellis.ControllerRuntime.Clients;
using Trellis.ControllerRuntime.LeaderElection;
using Trellis.Operator.Controllers;

namespace Trellis.Operator.Hosting;

/// <summary>
/// One operator replica: campaigns for the Lease when leader election is on and runs a term of the
/// controllers while it leads. Usable without a host, so tests, the local cluster and the benchmark
/// run it in the same process as their API server.
/// </summary>
public sealed class TrellisOperator
{
    private readonly ApiClient _client;
    private readonly OperatorOptions _options;
    private readonly ILoggerFactory _loggers;

    /// <param name="metrics">The families to record into; the caller passes them when its client already counts API writes into them.</param>
    public TrellisOperator(ApiClient client, OperatorOptions options, ILoggerFactory? loggers = null, OperatorMetrics? metrics = null)
    {
        Metrics = metrics ?? new OperatorMetrics();
        OperatorOptionsValidator.EnsureValid(options, includeConnection: false);
        _client = client;
        _options = options;
        _loggers = loggers ?? NullLoggerFactory.Instance;
    }

    public OperatorState State { get; } = new();

    public OperatorMetrics Metrics { get; }

    public OperatorOptions Options => _options;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        State.Started = true;
        try
        {
            if (!_options.LeaderElect)
            {
                State.Leading = true;
                await RunTermAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            var election = new LeaderElection(_client, new LeaderElectionOptions
            {
                LeaseNamespace = _options.LeaderElectionNamespace,
                LeaseName = _options.LeaderElectionName,
                Identity = _options.Identity,
                LeaseDuration = _options.LeaseDuration,
                RenewDeadline = _options.RenewDeadline,
                RetryPeriod = _options.RetryPeriod,
            }, _loggers.CreateLogger<LeaderElection>());
            await election.RunAsync(async term =>
            {
                State.Leading = true;
                try
                {
                    await RunTermAsync(term).ConfigureAwait(false);
                }
                finally
                {
                    State.Leading = false;
                }
            }, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            State.Started = false;
            State.Leading = false;
        }
    }

    private Task RunTermAsync(CancellationToken cancellationToken) =>
        new OperatorTerm(_client, _options, _loggers, State, Metrics).RunAsync(cancellationToken);
}
