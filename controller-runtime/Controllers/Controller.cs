using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Trellis.ControllerRuntime.Queue;

namespace Trellis.ControllerRuntime.Controllers;

/// <summary>
/// Runs <see cref="ControllerOptions.Workers"/> workers that take keys from a <see cref="WorkQueue{TKey}"/>
/// and reconcile them. Done forgets the key's backoff; RequeueAfter adds it again after the delay;
/// an exception is logged with the key and retried rate-limited.
/// </summary>
public sealed class Controller<TKey> where TKey : notnull
{
    private readonly IReconciler<TKey> _reconciler;
    private readonly ControllerOptions _options;
    private readonly ILogger _logger;

    public Controller(WorkQueue<TKey> queue, IReconciler<TKey> reconciler, ControllerOptions options, ILogger? logger = null)
    {
        if (options.Workers < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.Workers, $"controller {options.Name} needs at least one worker");
        Queue = queue;
        _reconciler = reconciler;
        _options = options;
        _logger = logger ?? NullLogger.Instance;
    }

    public WorkQueue<TKey> Queue { get; }

    /// <summary>
    /// Runs the workers until <paramref name="cancellationToken"/> is cancelled, then shuts the queue down
    /// and waits for in-flight reconciles (which see the same token) to return.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        _logger.LogInformation("controller {Controller}: starting {Workers} workers", _options.Name, _options.Workers);
        using var shutDown = cancellationToken.Register(Queue.ShutDown);
        var workers = Enumerable.Range(0, _options.Workers).Select(_ => Task.Run(() => WorkAsync(cancellationToken))).ToArray();
        await Task.WhenAll(workers).ConfigureAwait(false);
        _logger.LogInformation("controller {Controller}: stopped", _options.Name);
    }

    private async Task WorkAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var item = await Queue.GetAsync().ConfigureAwait(false);
            if (item.ShutDown || cancellationToken.IsCancellationRequested)
            {
                if (!item.ShutDown)
                    Queue.Done(item.Key);
                return;
            }
            try
            {
                await ReconcileAsync(item.Key, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Queue.Done(item.Key);
            }
        }
    }

    private async Task ReconcileAsync(TKey key, CancellationToken cancellationToken)
    {
        try
        {
            var result = await _reconciler.ReconcileAsync(key, cancellationToken).ConfigureAwait(false);
            Queue.Forget(key);
            if (result.RequeueAfter is { } delay)
                Queue.AddAfter(key, delay);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception error)
        {
            var failures = Queue.NumRequeues(key) + 1;
            _logger.LogError(error, "controller {Controller}: reconcile of {Key} failed (attempt {Attempt}); retrying with backoff",
                _options.Name, key, failures);
            Queue.AddRateLimited(key);
        }
    }
}
