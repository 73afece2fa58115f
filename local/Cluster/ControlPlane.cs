using k8s;
using Microsoft.Extensions.Logging;
using Trellis.Local.Scheduling;
using Trellis.Operator.Hosting;

namespace Trellis.Local.Cluster;

/// <summary>
/// The controllers that run in the `up` process beside the API server: the real Trellis operator
/// (leader-elected, as in its Deployment) and the scheduler that binds pods to nodes.
/// </summary>
public sealed class ControlPlane : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _running;
    private readonly ILoggerFactory _loggers;

    private ControlPlane(IKubernetes client, string leaseNamespace)
    {
        // Warnings and errors only: progress lines own the terminal, but a refused network must be seen.
        _loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
        var trellis = new TrellisOperator(client, new OperatorOptions
        {
            LeaderElectionNamespace = leaseNamespace,
            Identity = $"trellis-local-{Environment.ProcessId}",
            HealthPort = 0,
        }, _loggers);
        var scheduler = new Scheduler(client, _loggers);
        _running = Task.WhenAll(Task.Run(() => trellis.RunAsync(_stop.Token)), Task.Run(() => scheduler.RunAsync(_stop.Token)));
    }

    public static IAsyncDisposable Start(IKubernetes client, string leaseNamespace) => new ControlPlane(client, leaseNamespace);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try { await _running; } catch (OperationCanceledException) { }
        _stop.Dispose();
        _loggers.Dispose();
    }
}
