using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Trellis.ControllerRuntime.Clients;

namespace Trellis.ControllerRuntime.Events;

/// <summary>
/// Writes core/v1 Events about any object. A repeat of the same event (same object, type, reason and message)
/// within <see cref="DeduplicationWindow"/> bumps the existing Event's count and lastTimestamp instead of
/// creating another, as client-go's correlator does, so a reconcile loop that keeps failing does not flood the
/// API. Events about cluster-scoped objects go to the <c>default</c> namespace, where kubectl looks for them.
/// Recording is best effort: a failure is logged and returned as null, never thrown into a reconcile.
/// </summary>
public sealed class EventRecorder
{
    private const string ClusterScopedEventNamespace = "default";

    private readonly ApiClient _client;
    private readonly string _component;
    private readonly string _instance;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly object _gate = new();
    private readonly Dictionary<string, Recorded> _recent = new();

    public EventRecorder(ApiClient client, string reportingComponent, string? reportingInstance = null,
        TimeSpan? deduplicationWindow = null, ILogger? logger = null, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reportingComponent);
        _client = client;
        _component = reportingComponent;
        _instance = reportingInstance ?? Environment.MachineName;
        DeduplicationWindow = deduplicationWindow ?? TimeSpan.FromMinutes(10);
        _logger = logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
    }

    public TimeSpan DeduplicationWindow { get; }

    public Task<Corev1Event?> NormalAsync(IKubernetesObject<V1ObjectMeta> about, string reason, string message, CancellationToken cancellationToken) =>
        RecordAsync(about, EventType.Normal, reason, message, cancellationToken);

    public Task<Corev1Event?> WarningAsync(IKubernetesObject<V1ObjectMeta> about, string reason, string message, CancellationToken cancellationToken) =>
        RecordAsync(about, EventType.Warning, reason, message, cancellationToken);

    /// <summary>Creates the Event, or bumps the count of an identical recent one; returns what the server stored, or null if recording failed.</summary>
    public async Task<Corev1Event?> RecordAsync(IKubernetesObject<V1ObjectMeta> about, EventType type, string reason, string message,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        var involved = ObjectReferences.Of(about);
        var ns = string.IsNullOrEmpty(involved.NamespaceProperty) ? ClusterScopedEventNamespace : involved.NamespaceProperty;
        var now = _time.GetUtcNow().UtcDateTime;
        var identity = string.Join('\u0000', involved.ApiVersion, involved.Kind, involved.NamespaceProperty, involved.Name, involved.Uid, type, reason, message);

        try
        {
            Recorded? previous;
            lock (_gate)
            {
                _recent.TryGetValue(identity, out previous);
                if (previous is not null && now - previous.LastSeen > DeduplicationWindow)
                    previous = null;
            }
            Corev1Event stored;
            if (previous is not null && await BumpAsync(previous, now, cancellationToken).ConfigureAwait(false) is { } bumped)
            {
                stored = bumped;
            }
            else
            {
                stored = await ApiHttp.CreateAsync(_client, EventsPath(ns), NewEvent(involved, ns, type, reason, message, now), cancellationToken)
                    .ConfigureAwait(false);
            }
            lock (_gate)
                _recent[identity] = new Recorded(ns, stored.Metadata.Name, stored.Count ?? 1, now);
            return stored;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception error)
        {
            _logger.LogWarning(error, "could not record {Type} event {Reason} about {Kind} {Name}: {Message}",
                type, reason, involved.Kind, involved.Name, message);
            return null;
        }
    }

    private async Task<Corev1Event?> BumpAsync(Recorded previous, DateTime now, CancellationToken cancellationToken)
    {
        var patch = new V1Patch(
            ApiJson.Serialize(new Dictionary<string, object> { ["count"] = previous.Count + 1, ["lastTimestamp"] = now }),
            V1Patch.PatchType.MergePatch);
        try
        {
            return await ApiHttp.PatchAsync<Corev1Event>(_client, $"{EventsPath(previous.Namespace)}/{ApiHttp.Segment(previous.Name)}", patch,
                cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException error) when (error.Response?.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            // The Event expired (the API server keeps them for an hour by default): start a new one.
            return null;
        }
    }

    private static string EventsPath(string ns) => $"/api/v1/namespaces/{ApiHttp.Segment(ns)}/events";

    private Corev1Event NewEvent(V1ObjectReference involved, string ns, EventType type, string reason, string message, DateTime now) => new()
    {
        ApiVersion = "v1",
        Kind = "Event",
        Metadata = new V1ObjectMeta
        {
            // client-go's naming: the object's name and a timestamp in hex, unique per recorder tick.
            Name = $"{involved.Name}.{now.Ticks:x}{Random.Shared.Next(0x1000):x3}",
            NamespaceProperty = ns,
        },
        InvolvedObject = involved,
        Type = type.ToString(),
        Reason = reason,
        Message = message,
        Count = 1,
        FirstTimestamp = now,
        LastTimestamp = now,
        EventTime = null,
        Source = new V1EventSource { Component = _component, Host = _instance },
        ReportingComponent = _component,
        ReportingInstance = _instance,
    };

    private sealed record Recorded(string Namespace, string Name, int Count, DateTime LastSeen);
}
