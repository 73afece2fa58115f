using k8s;
using Microsoft.Extensions.Logging;
using Trellis.Operator.Hosting;

namespace Trellis.Local.Cluster;

/// <summary>The real Trellis operator, run in this process against the local API server, leader-elected as in a Deployment.</summary>
public sealed class OperatorRunner : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _running;
    private readonly ILoggerFactory _loggers;

    private OperatorRunner(IKubernetes client, string leaseNamespace)
    {
        // Warnings and errors only: progress lines own the terminal, but a refused network must be seen.
        _loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
        var trellis = new TrellisOperator(client, new OperatorOptions
        {
            LeaderElectionNamespace = leaseNamespace,
            Identity = $"trellis-local-{Environment.ProcessId}",
            HealthPort = 0,
        }, _loggers);
        _running = Task.Run(() => trellis.RunAsync(_stop.Token));
    }

    public static IAsyncDisposable Start(IKubernetes client, string leaseNamespace) => new OperatorRunner(client, leaseNamespace);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try { await _running; } catch (OperationCanceledException) { }
        _stop.Dispose();
        _loggers.Dispose();
    }
}
