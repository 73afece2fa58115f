using System.Net;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Trellis.Operator.Hosting;

/// <summary>/healthz (the process answers) and /readyz (<see cref="OperatorState.Ready"/>) for the Deployment's probes.</summary>
public sealed class HealthEndpoint(OperatorOptions options, TrellisOperator trellisOperator, ILogger<HealthEndpoint> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.HealthPort == 0) return;
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://+:{options.HealthPort}/");
        listener.Start();
        logger.LogInformation("health endpoint listening on port {Port} (/healthz, /readyz)", options.HealthPort);
        using var stop = stoppingToken.Register(listener.Stop);
        while (!stoppingToken.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            var (code, body) = context.Request.Url?.AbsolutePath switch
            {
                "/healthz" => (200, "ok"),
                "/readyz" when trellisOperator.State.Ready => (200, "ok"),
                "/readyz" => (503, "caches not synced"),
                _ => (404, "not found"),
            };
            context.Response.StatusCode = code;
            var bytes = System.Text.Encoding.UTF8.GetBytes(body + "\n");
            await context.Response.OutputStream.WriteAsync(bytes, stoppingToken).ConfigureAwait(false);
            context.Response.Close();
        }
    }
}
