using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Prometheus;
using Trellis.ControllerRuntime.Metrics;

namespace Trellis.ControllerRuntime.Hosting;

/// <summary>What a probe asks, and the answer with its reason.</summary>
public sealed record ProbeAnswer(bool Healthy, string Reason)
{
    public static readonly ProbeAnswer Ok = new(true, "ok");
}

/// <summary>
/// The one HTTP server of a Trellis process: /healthz and /readyz for the kubelet's probes (200 or 503 with the
/// reason) and /metrics in the Prometheus text format. Served by Kestrel rather than HttpListener: the managed
/// HttpListener can fail Start when a probe connects at that moment (dotnet/corefx#35191) and throws when a prober
/// hangs up mid-answer, and either stopped the host.
/// </summary>
public static class ProbeEndpoint
{
    /// <summary>Serves on every address of <paramref name="port"/> until <paramref name="stoppingToken"/> is cancelled.</summary>
    public static async Task ServeAsync(int port, Func<ProbeAnswer> liveness, Func<ProbeAnswer> readiness, CollectorRegistry metrics,
        ILogger logger, CancellationToken stoppingToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenAnyIP(port));
        await using var app = builder.Build();
        app.Run(context => AnswerAsync(context, liveness, readiness, metrics));
        await app.StartAsync(stoppingToken).ConfigureAwait(false);
        logger.LogInformation("listening on port {Port} (/healthz, /readyz, /metrics)", port);
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

    private static async Task AnswerAsync(HttpContext context, Func<ProbeAnswer> liveness, Func<ProbeAnswer> readiness, CollectorRegistry metrics)
    {
        var probe = context.Request.Path.Value switch
        {
            "/healthz" => liveness(),
            "/readyz" => readiness(),
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
        await metrics.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
    }
}
