using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Trellis.ControllerRuntime.Hosting;

namespace Trellis.Operator.Hosting;

/// <summary>
/// /healthz (the process answers), /readyz (<see cref="OperatorState.Ready"/>) and /metrics (<see cref="OperatorMetrics"/>)
/// on --health-port, for the Deployment's probes and Prometheus.
/// </summary>
public sealed class HealthEndpoint(OperatorOptions options, TrellisOperator trellisOperator, ILogger<HealthEndpoint> logger) : BackgroundService
{
    private static readonly ProbeAnswer NotSynced = new(false, "caches not synced");

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        options.HealthPort == 0
            ? Task.CompletedTask
            : ProbeEndpoint.ServeAsync(options.HealthPort, () => ProbeAnswer.Ok, () => trellisOperator.State.Ready ? ProbeAnswer.Ok : NotSynced,
                trellisOperator.Metrics.Registry, logger, stoppingToken);
}
