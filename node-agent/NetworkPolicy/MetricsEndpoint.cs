using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Trellis.NetworkPolicy.Compiling;

namespace Trellis.NodeAgent.NetworkPolicy;

/// <summary>
/// /metrics on --metrics-port (Kestrel, as the operator's health endpoint, for the same reasons):
/// the NetworkPolicy metrics, with the drop counters read from the kernel at each scrape.
/// </summary>
public sealed class MetricsEndpoint(AgentOptions options, PolicyEnforcementState state, ILogger<MetricsEndpoint> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options;
        if (settings.MetricsPort == 0) return;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenAnyIP(settings.MetricsPort));
        await using var app = builder.Build();
        app.Run(context =>
        {
            if (context.Request.Path.Value != "/metrics")
            {
                context.Response.StatusCode = 404;
                return context.Response.WriteAsync("not found\n", context.RequestAborted);
            }
            var counters = state.Writer?.ReadCounters(ObjectNames.Table) ?? new Dictionary<string, Trellis.NetworkPolicy.Ruleset.CounterValue>();
            context.Response.ContentType = PolicyMetrics.ContentType;
            return context.Response.WriteAsync(PolicyMetrics.Render(settings.NodeName, state.Current, counters), context.RequestAborted);
        });
        await app.StartAsync(stoppingToken).ConfigureAwait(false);
        logger.LogInformation("metrics endpoint listening on port {Port} (/metrics)", settings.MetricsPort);
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
