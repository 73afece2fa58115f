using k8s;
using k8s.Models;

namespace Trellis.ControllerRuntime.Informers;

public sealed record InformerOptions
{
    /// <summary>How often every cached object is re-delivered as an update (for reconcile loops that must not drift); null turns it off.</summary>
    public TimeSpan? ResyncPeriod { get; init; }

    /// <summary>Backoff after a failed list or watch: starts here and doubles up to <see cref="MaxErrorBackoff"/>.</summary>
    public TimeSpan MinErrorBackoff { get; init; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan MaxErrorBackoff { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Applied to every object before it is cached or handed to a handler (listed, watched or assumed), as
    /// client-go's SetTransform: a cache of thousands of objects keeps only what its readers use. The object is the
    /// informer's own (freshly decoded, or the caller's write): it may be changed in place and returned. Null keeps
    /// objects whole.
    /// </summary>
    public Func<IKubernetesObject<V1ObjectMeta>, IKubernetesObject<V1ObjectMeta>>? Transform { get; init; }
}
