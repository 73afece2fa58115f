using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;
using Trellis.ControllerRuntime.Metrics;

namespace Trellis.Operator.Hosting;

/// <summary>
/// /healthz (the process answers) and /readyz (<see cref="OperatorState.Ready"/>) for the Deployment's probes, and
/// /metrics (<see cref="OperatorMetrics"/>) in the Prometheus text format.
/// Served by Kestrel rather than HttpListener: the managed HttpListener can fail Start when a probe connects at
/// that moment (dotnet/corefx#35191) and throws when a prober hangs up mid-answer, and either stopped the host.
/// </summary>
public sealed class HealthEndpoint(OperatorOptions options, TrellisOperator trellisOperator, ILogger<HealthEndpoint> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.HealthPort == 0) return;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenAnyIP(options.HealthPort));
        await using var app = builder.Build();
        app.Run(async context =>
        {
            if (context.Request.Path.Value == "/metrics")
            {
                context.Response.ContentType = PrometheusText.ContentType;
                await trellisOperator.Metrics.Registry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
                return;
            }
            var (code, body) = context.Request.Path.Value switch
            {
                "/healthz" => (200, "ok"),
                "/readyz" when trellisOperator.State.Ready => (200, "ok"),
                "/readyz" => (503, "caches not synced"),
                _ => (404, "not found"),
            };
            context.Response.StatusCode = code;
            await context.Response.WriteAsync(body + "\n", context.RequestAborted).ConfigureAwait(false);
        });
        await app.StartAsync(stoppingToken).ConfigureAwait(false);
        logger.LogInformation("health endpoint listening on port {Port} (/healthz, /readyz, /metrics)", options.HealthPort);
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
}
