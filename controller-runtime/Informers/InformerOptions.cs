namespace Trellis.ControllerRuntime.Informers;

public sealed record InformerOptions
{
    /// <summary>How often every cached object is re-delivered as an update (for reconcile loops that must not drift); null turns it off.</summary>
    public TimeSpan? ResyncPeriod { get; init; }

    /// <summary>Backoff after a failed list or watch: starts here and doubles up to <see cref="MaxErrorBackoff"/>.</summary>
    public TimeSpan MinErrorBackoff { get; init; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan MaxErrorBackoff { get; init; } = TimeSpan.FromSeconds(30);
}
