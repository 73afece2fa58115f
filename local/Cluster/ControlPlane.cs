using k8s;
using Microsoft.Extensions.Logging;
using Trellis.Local.Scheduling;
using Trellis.Operator.Hosting;
using Trellis.ControllerRuntime.Clients;

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

    /// <param name="operatorClient">The operator's own identity (its ServiceAccount), so config/rbac is what it may do; null when it runs as a container.</param>
    /// <param name="schedulerClient">The scheduler's (kube-scheduler's role is not modelled: the admin's).</param>
    private ControlPlane(IKubernetes? operatorClient, IKubernetes schedulerClient, string leaseNamespace)
    {
        // Warnings and errors only, on stderr: progress lines own the terminal and `run --json` owns stdout, but a refused network must be seen.
        _loggers = LoggerFactory.Create(b => b
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
            .AddSimpleConsole(o => o.SingleLine = true)
            .SetMinimumLevel(LogLevel.Warning));
        var scheduler = new Scheduler(schedulerClient, _loggers);
        var running = new List<Task> { Task.Run(() => scheduler.RunAsync(_stop.Token)) };
        if (operatorClient is not null)
        {
            var trellis = new TrellisOperator(ApiClient.Over(operatorClient), new OperatorOptions
            {
                LeaderElectionNamespace = leaseNamespace,
                Identity = $"trellis-local-{Environment.ProcessId}",
                HealthPort = 0,
            }, _loggers);
            running.Add(Task.Run(() => trellis.RunAsync(_stop.Token)));
        }
        _running = Task.WhenAll(running);
    }

    public static IAsyncDisposable Start(IKubernetes? operatorClient, IKubernetes schedulerClient, string leaseNamespace) =>
        new ControlPlane(operatorClient, schedulerClient, leaseNamespace);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try { await _running; } catch (OperationCanceledException) { }
        _stop.Dispose();
        _loggers.Dispose();
    }
}
