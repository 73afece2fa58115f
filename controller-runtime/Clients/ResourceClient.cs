using System.Net;
using System.Runtime.CompilerServices;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Trellis.ControllerRuntime.Clients;

/// <summary>
/// List and watch of one resource type over a generated KubernetesClient list method
/// (<see cref="ResourceClients"/> has the ready-made ones). Watches always ask for bookmarks
/// and a server-side timeout, so a stream that hangs silently is replaced within that time.
/// </summary>
public sealed class ResourceClient<T, TList> : IListWatch<T>
    where T : IKubernetesObject<V1ObjectMeta>
    where TList : IItems<T>, IMetadata<V1ListMeta>
{
    public static readonly TimeSpan DefaultWatchTimeout = TimeSpan.FromMinutes(1);

    /// <summary>Objects per page of a list (client-go's reflector asks for 500).</summary>
    public const int DefaultPageSize = 500;

    private readonly Func<ListRequest, CancellationToken, Task<HttpOperationResponse<TList>>> _call;
    private readonly string? _labelSelector;
    private readonly string? _fieldSelector;
    private readonly int _watchTimeoutSeconds;

    public ResourceClient(
        string resource,
        Func<ListRequest, CancellationToken, Task<HttpOperationResponse<TList>>> call,
        string? labelSelector = null,
        TimeSpan? watchTimeout = null,
        string? fieldSelector = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(resource);
        var timeout = watchTimeout ?? DefaultWatchTimeout;
        if (timeout < TimeSpan.FromSeconds(1))
            throw new ArgumentOutOfRangeException(nameof(watchTimeout), timeout, $"watch timeout for {resource} must be at least one second");
        var selectors = string.Join(", ", new[] { labelSelector, fieldSelector }.Where(s => s is not null));
        Resource = selectors.Length == 0 ? resource : $"{resource} ({selectors})";
        _call = call;
        _labelSelector = labelSelector;
        _fieldSelector = fieldSelector;
        _watchTimeoutSeconds = (int)timeout.TotalSeconds;
    }

    public string Resource { get; }

    /// <summary>Objects per page of <see cref="ListAsync"/>; null asks for every object in one response.</summary>
    public int? PageSize { get; init; } = DefaultPageSize;

    /// <summary>
    /// Lists in pages of <see cref="PageSize"/>, following the server's continue token; every page comes from the snapshot
    /// of the first. When the token has expired (410 Gone: the server compacted past the snapshot, after minutes), the list
    /// starts again unpaged, as client-go's pager does.
    /// </summary>
    public async Task<ListResult<T>> ListAsync(Func<T, T> keep, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keep);
        try
        {
            return await ListPagesAsync(PageSize, keep, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException error) when (PageSize is not null && error.Response?.StatusCode == HttpStatusCode.Gone)
        {
            return await ListPagesAsync(null, keep, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<ListResult<T>> ListPagesAsync(int? pageSize, Func<T, T> keep, CancellationToken cancellationToken)
    {
        var items = new List<T>();
        string? continueToken = null;
        while (true)
        {
            var request = new ListRequest(false, null, _labelSelector, null, null, _fieldSelector, pageSize, continueToken);
            using (var response = await _call(request, cancellationToken).ConfigureAwait(false))
            {
                var body = response.Body;
                var resourceVersion = body?.Metadata?.ResourceVersion;
                if (string.IsNullOrEmpty(resourceVersion))
                    throw new InvalidOperationException($"list of {Resource} returned no metadata.resourceVersion; cannot watch from it");
                foreach (var item in body!.Items ?? []) items.Add(keep(item));
                continueToken = body.Metadata.ContinueProperty;
                if (string.IsNullOrEmpty(continueToken)) return new ListResult<T>(items, resourceVersion);
            }
        }
    }

    public async IAsyncEnumerable<(WatchEventType Type, T Object)> WatchAsync(
        string resourceVersion,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(resourceVersion);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Exception? streamError = null;

        // KubernetesClient reports ERROR events (and undecodable lines) to this callback and keeps reading;
        // stopping the stream here turns them into an end of watch the caller can act on.
        void OnError(Exception error)
        {
            streamError ??= error;
            stop.Cancel();
        }

        var request = new ListRequest(true, resourceVersion, _labelSelector, _watchTimeoutSeconds, true, _fieldSelector);
#pragma warning disable CS0618 // WatchAsync<T, L> is the supported way to stream a generated list call in KubernetesClient 21.
        var events = _call(request, stop.Token).WatchAsync<T, TList>(OnError, stop.Token);
#pragma warning restore CS0618
        await using var enumerator = events.GetAsyncEnumerator(stop.Token);
        while (true)
        {
            bool more;
            try
            {
                more = await enumerator.MoveNextAsync().ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (streamError is not null && !cancellationToken.IsCancellationRequested)
            {
                more = false;
            }
            catch (Exception error) when (IsEmptyStream(error))
            {
                // The server closed the watch before sending a line (timeout or restart): a normal end.
                more = false;
            }
            catch (HttpOperationException error) when (error.Response?.StatusCode == HttpStatusCode.Gone)
            {
                throw new ResourceExpiredException(Resource, resourceVersion, error.Response.Content);
            }
            if (!more)
                break;
            yield return enumerator.Current;
        }

        switch (streamError)
        {
            case null:
                yield break;
            case KubernetesException { Status.Code: (int)HttpStatusCode.Gone } gone:
                throw new ResourceExpiredException(Resource, resourceVersion, gone.Status.Message);
            default:
                throw new InvalidOperationException($"watch of {Resource} from resourceVersion {resourceVersion} failed: {streamError.Message}", streamError);
        }
    }

    private static bool IsEmptyStream(Exception error) => error switch
    {
        EndOfStreamException => true,
        AggregateException aggregate => aggregate.InnerExceptions.Any(IsEmptyStream),
        _ => error.InnerException is { } inner && IsEmptyStream(inner),
    };
}
