using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;
using Trellis.ControllerRuntime.Metrics;
using Trellis.NetworkPolicy.Compiling;
using Trellis.NodeAgent.NetworkPolicy;

namespace Trellis.NodeAgent.Observability;

/// <summary>
/// The agent's one HTTP server, on --metrics-port: /healthz and /readyz for the DaemonSet's probes
/// (<see cref="LoopHealth"/>) and /metrics in the Prometheus text format (<see cref="AgentMetrics"/>, with the
/// NetworkPolicy drop counters read from the kernel at each scrape). Kestrel, as the operator's health endpoint,
/// for the same reasons.
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

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_options.MetricsPort == 0) return;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenAnyIP(_options.MetricsPort));
        await using var app = builder.Build();
        app.Run(context => AnswerAsync(context, _health, _metrics.Registry));
        await app.StartAsync(stoppingToken).ConfigureAwait(false);
        _logger.LogInformation("health and metrics endpoint listening on port {Port} (/healthz, /readyz, /metrics)", _options.MetricsPort);
        try
        {
            await Task.Delay(Timeout.Infinite, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await app.StopAsync(grace.Token).ConfigureAwait(false);
    }

    /// <summary>One request: the probes answer 200 or 503 with their reason; /metrics the registry's families.</summary>
    public static async Task AnswerAsync(HttpContext context, LoopHealth health, CollectorRegistry registry)
    {
        var probe = context.Request.Path.Value switch
        {
            "/healthz" => health.Liveness(),
            "/readyz" => health.Readiness(),
            _ => null,
        };
        if (probe is not null)
        {
            context.Response.StatusCode = probe.Healthy ? 200 : 503;
            await context.Response.WriteAsync(probe.Reason + "\n", context.RequestAborted).ConfigureAwait(false);
            return;
        }
        if (context.Request.Path.Value != "/metrics")
        {
            context.Response.StatusCode = 404;
            await context.Response.WriteAsync("not found (/healthz, /readyz, /metrics)\n", context.RequestAborted).ConfigureAwait(false);
            return;
        }
        context.Response.ContentType = PrometheusText.ContentType;
        await registry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
    }
}
