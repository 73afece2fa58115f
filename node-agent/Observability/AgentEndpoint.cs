using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Trellis.ControllerRuntime.Hosting;
using Trellis.NetworkPolicy.Compiling;
using Trellis.NodeAgent.NetworkPolicy;

namespace Trellis.NodeAgent.Observability;

/// <summary>
/// The agent's one HTTP server, on --metrics-port: /healthz and /readyz for the DaemonSet's probes
/// (<see cref="LoopHealth"/>) and /metrics (<see cref="AgentMetrics"/>, with the NetworkPolicy drop counters
/// read from the kernel at each scrape).
/// </summary>
public sealed class AgentEndpoint : BackgroundService
{
    private readonly AgentOptions _options;
    private readonly AgentMetrics _metrics;
    private readonly LoopHealth _health;
    private readonly ILogger<AgentEndpoint> _logger;

    public AgentEndpoint(AgentOptions options, AgentMetrics metrics, LoopHealth health, PolicyEnforcementState policy, ILogger<AgentEndpoint> logger)
    {
        _options = options;
        _metrics = metrics;
        _health = health;
        _logger = logger;
        var policyMetrics = new PolicyMetrics(metrics.Factory);
        metrics.Registry.AddBeforeCollectCallback(() =>
            policyMetrics.Update(policy.Current, policy.Writer?.ReadCounters(ObjectNames.Table) ?? new Dictionary<string, Trellis.NetworkPolicy.Ruleset.CounterValue>()));
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        _options.MetricsPort == 0
            ? Task.CompletedTask
            : ProbeEndpoint.ServeAsync(_options.MetricsPort, _health.Liveness, _health.Readiness, _metrics.Registry, _logger, stoppingToken);
}
