using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Trellis.ApiServer.Storage;
using Trellis.ControllerRuntime.Clients;
using Trellis.ControllerRuntime.Controllers;
using Trellis.ControllerRuntime.Events;
using Trellis.ControllerRuntime.Informers;
using Trellis.ControllerRuntime.Queue;

namespace Trellis.Local.Scheduling;

/// <summary>
/// A small kube-scheduler: every Pod without spec.nodeName that asks for the default scheduler is
/// bound (pods/binding) to the next fitting node (<see cref="NodeChoice"/>); a pod that fits nowhere
/// gets PodScheduled=False, a FailedScheduling Event, and another try whenever a node changes.
/// </summary>
public sealed class Scheduler : IReconciler<string>
{
    public const string Name = "default-scheduler";

    private readonly IKubernetes _client;
    private readonly ILogger _logger;
    private readonly EventRecorder _events;
    private readonly Informer<V1Pod> _pending;
    private readonly Informer<V1Node> _nodes;
    private readonly object _gate = new();
    private string? _last;

    public Scheduler(IKubernetes client, ILoggerFactory loggers)
    {
        _client = client;
        _logger = loggers.CreateLogger("scheduler");
        _events = new EventRecorder(ApiClient.Over(client), Name, logger: _logger);
        _pending = new Informer<V1Pod>(ResourceClients.Pods(ApiClient.Over(client), fieldSelector: "spec.nodeName="), logger: _logger);
        _nodes = new Informer<V1Node>(ResourceClients.Nodes(ApiClient.Over(client)), logger: _logger);
    }

    public async Task RunAsync(CancellationToken ct)
    {
        using var queue = new WorkQueue<string>(new ExponentialBackoff<string>(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(10)));
        _pending.Added += pod => queue.Add(ObjectKey.KeyOf(pod));
        _pending.Updated += (_, pod) => queue.Add(ObjectKey.KeyOf(pod));
        void Retry() { foreach (var pod in _pending.List()) queue.Add(ObjectKey.KeyOf(pod)); }
        _nodes.Added += _ => Retry();
        _nodes.Updated += (before, after) => { if (!ReferenceEquals(before, after)) Retry(); };
        var informing = Task.WhenAll(_pending.RunAsync(ct), _nodes.RunAsync(ct));
        await _nodes.WaitForSyncAsync(ct);
        await _pending.WaitForSyncAsync(ct);
        var controller = new Controller<string>(queue, this, new ControllerOptions { Name = Name, Workers = 1 }, _logger);
        await Task.WhenAll(controller.RunAsync(ct), informing);
    }

    public async Task<ReconcileResult> ReconcileAsync(string key, CancellationToken ct)
    {
        var pod = _pending.Get(key);
        if (pod is null || pod.Metadata.DeletionTimestamp is not null || !string.IsNullOrEmpty(pod.Spec.NodeName)
            || (pod.Spec.SchedulerName ?? Name) != Name || pod.Status?.Phase is "Succeeded" or "Failed")
            return ReconcileResult.Done;
        var nodes = _nodes.List();
        string? node;
        lock (_gate)
        {
            node = NodeChoice.Next(pod, nodes, _last);
            if (node is not null) _last = node;
        }
        if (node is null)
        {
            var message = NodeChoice.Unavailable(pod, nodes);
            await MarkUnschedulableAsync(pod, message, ct);
            await _events.WarningAsync(pod, "FailedScheduling", message, ct);
            return ReconcileResult.Done;
        }
        try
        {
            await _client.CoreV1.CreateNamespacedPodBindingAsync(new V1Binding
            {
                Metadata = new V1ObjectMeta { Name = pod.Metadata.Name, Uid = pod.Metadata.Uid },
                Target = new V1ObjectReference { ApiVersion = "v1", Kind = "Node", Name = node },
            }, pod.Metadata.Name, pod.Metadata.NamespaceProperty, cancellationToken: ct);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Conflict)
        {
            // Deleted, re-created or bound by someone else meanwhile: nothing left to schedule.
            return ReconcileResult.Done;
        }
        _logger.LogInformation("bound {Pod} to {Node}", key, node);
        await _events.NormalAsync(pod, "Scheduled", $"Successfully assigned {key} to {node}", ct);
        return ReconcileResult.Done;
    }

    private async Task MarkUnschedulableAsync(V1Pod pod, string message, CancellationToken ct)
    {
        var current = pod.Status?.Conditions?.FirstOrDefault(c => c.Type == "PodScheduled");
        if (current is { Status: "False", Reason: "Unschedulable" } && current.Message == message) return;
        var conditions = new JsonArray((pod.Status?.Conditions ?? []).Where(c => c.Type != "PodScheduled")
            .Select(c => JsonNode.Parse(KubernetesJson.Serialize(c))).Append(new JsonObject
            {
                ["type"] = "PodScheduled", ["status"] = "False", ["reason"] = "Unschedulable", ["message"] = message,
                ["lastProbeTime"] = null, ["lastTransitionTime"] = ObjectStore.Rfc3339(DateTimeOffset.UtcNow),
            }).ToArray());
        try
        {
            await _client.CoreV1.PatchNamespacedPodStatusAsync(new V1Patch(new JsonObject { ["status"] = new JsonObject { ["conditions"] = conditions } }.ToJsonString(),
                V1Patch.PatchType.MergePatch), pod.Metadata.Name, pod.Metadata.NamespaceProperty, cancellationToken: ct);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.NotFound) { }
    }
}
