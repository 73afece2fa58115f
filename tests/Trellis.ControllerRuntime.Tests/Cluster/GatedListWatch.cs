using System.Runtime.CompilerServices;
using k8s;
using k8s.Models;
using Trellis.ControllerRuntime.Clients;

namespace Trellis.ControllerRuntime.Tests.Cluster;

/// <summary>
/// Passes list and watch through to a real source, but can hold back the opening of the next watch,
/// so a test can change the server while an informer is between watches.
/// </summary>
public sealed class GatedListWatch<T>(IListWatch<T> inner) : IListWatch<T> where T : IKubernetesObject<V1ObjectMeta>
{
    private volatile TaskCompletionSource _open = Opened();

    public string Resource => inner.Resource;

    public void Close() => _open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Open() => _open.TrySetResult();

    public Task<ListResult<TKept>> ListAsync<TKept>(Func<T, TKept> keep, CancellationToken cancellationToken) => inner.ListAsync(keep, cancellationToken);

    public async IAsyncEnumerable<(WatchEventKind Type, T Object)> WatchAsync(string resourceVersion, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await _open.Task.WaitAsync(cancellationToken);
        await foreach (var item in inner.WatchAsync(resourceVersion, cancellationToken))
            yield return item;
    }

    private static TaskCompletionSource Opened()
    {
        var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        open.SetResult();
        return open;
    }
}
