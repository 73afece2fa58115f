using k8s;
using k8s.Models;

namespace Trellis.ControllerRuntime.Clients;

/// <summary>The two calls a reflector needs for one resource type (client-go's ListerWatcher).</summary>
public interface IListWatch<T> where T : IKubernetesObject<V1ObjectMeta>
{
    /// <summary>Describes the resource for logs and errors, e.g. <c>nodes</c> or <c>widgets.example.com/v1</c>.</summary>
    string Resource { get; }

    /// <summary>
    /// Every object, as one consistent snapshot, each passed through <paramref name="keep"/> as it arrives: a list read in pages
    /// never holds every object whole at once.
    /// </summary>
    Task<ListResult<TKept>> ListAsync<TKept>(Func<T, TKept> keep, CancellationToken cancellationToken);

    /// <summary>
    /// Streams changes after <paramref name="resourceVersion"/>, bookmarks included, until the server ends the stream.
    /// Throws <see cref="ResourceExpiredException"/> when the server no longer has that version (410 Gone).
    /// </summary>
    IAsyncEnumerable<(WatchEventKind Type, T Object)> WatchAsync(string resourceVersion, CancellationToken cancellationToken);
}
