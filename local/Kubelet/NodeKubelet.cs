using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Trellis.ControllerRuntime.Clients;
using Trellis.ControllerRuntime.Controllers;
using Trellis.ControllerRuntime.Events;
using Trellis.ControllerRuntime.Informers;
using Trellis.ControllerRuntime.Queue;
using Trellis.Local.Namespaces;
using Trellis.Local.Pods;
using Trellis.Netlink;

namespace Trellis.Local.Kubelet;

/// <summary>Where one node's kubelet finds its runtime, its network plugin and its API server.</summary>
public sealed record KubeletOptions
{
    public required string NodeName { get; init; }
    /// <summary>The node's directory: cni/net.d (the conflist the agent writes), run/sandboxes (volatile), lib (survives reboots).</summary>
    public required string NodeDirectory { get; init; }
    public required string Prefix { get; init; }
    /// <summary>The node's own network namespace, where hostNetwork pods live.</summary>
    public required string NodeNamespace { get; init; }
    public required IReadOnlyList<string> CniPluginDirectories { get; init; }
    public int Workers { get; init; } = 4;
    public TimeSpan ResyncPeriod { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Retry of a pod whose sandbox failed: doubling from <see cref="RetryBase"/> up to <see cref="RetryMax"/>, as kubelet backs off.</summary>
    public TimeSpan RetryBase { get; init; } = TimeSpan.FromMilliseconds(500);
    public TimeSpan RetryMax { get; init; } = TimeSpan.FromSeconds(20);

    public string ConflistPath => Path.Combine(NodeDirectory, "cni", "net.d", "10-trellis.conflist");
    public string SandboxDirectory => SandboxDirectoryOf(NodeDirectory);
    public static string SandboxDirectoryOf(string nodeDirectory) => Path.Combine(RunDirectoryOf(nodeDirectory), "sandboxes");
    /// <summary>What a reboot empties (the node's /run).</summary>
    public static string RunDirectoryOf(string nodeDirectory) => Path.Combine(nodeDirectory, "run");
}

/// <summary>
/// The kubelet and container runtime of one simulated node: watches the Pods bound to it
/// (field selector spec.nodeName), gives each a sandbox (network namespace, CNI ADD with a fresh
/// sandbox ID), serves its declared ports, reports its addresses and readiness, tears sandboxes
/// down on deletion (CNI DEL) and deletes the Pod for good. A sandbox that fails is retried with a
/// new one after a backoff, with an Event saying why, as kubelet does.
/// </summary>
public sealed class NodeKubelet : IReconciler<string>, IAsyncDisposable
{
    private readonly IKubernetes _client;
    private readonly KubeletOptions _options;
    private readonly ILogger _logger;
    private readonly PodSandboxRuntime _runtime;
    private readonly EventRecorder _events;
    private readonly Informer<V1Pod> _pods;
    private readonly ConcurrentDictionary<string, PortResponders> _responders = new(StringComparer.Ordinal);
    private readonly TimeProvider _time = TimeProvider.System;
    private string _hostIp = "";

    public NodeKubelet(IKubernetes client, KubeletOptions options, ILoggerFactory loggers)
    {
        _client = client;
        _options = options;
        _logger = loggers.CreateLogger($"kubelet.{options.NodeName}");
        _runtime = new PodSandboxRuntime(new SandboxStore(options.SandboxDirectory), new CniRuntime(null, options.CniPluginDirectories),
            options.ConflistPath, options.Prefix);
        _events = new EventRecorder(ApiClient.Over(client), "kubelet", options.NodeName, logger: _logger);
        _pods = new Informer<V1Pod>(ResourceClients.Pods(ApiClient.Over(client), fieldSelector: $"spec.nodeName={options.NodeName}"),
            new InformerOptions { ResyncPeriod = options.ResyncPeriod }, _logger);
    }

    public async Task RunAsync(CancellationToken ct)
    {
        _hostIp = await ReadHostIpAsync(ct);
        using var queue = new WorkQueue<string>(new ExponentialBackoff<string>(_options.RetryBase, _options.RetryMax));
        _pods.Added += pod => queue.Add(ObjectKey.KeyOf(pod));
        _pods.Updated += (_, pod) => queue.Add(ObjectKey.KeyOf(pod));
        _pods.Deleted += pod => queue.Add(ObjectKey.KeyOf(pod));
        var informing = _pods.RunAsync(ct);
        await _pods.WaitForSyncAsync(ct);
        // Sandboxes of pods deleted while this kubelet was down get no event: look at every one once.
        foreach (var record in _runtime.List()) queue.Add(record.PodKey);
        _logger.LogInformation("kubelet of {Node} ({HostIp}): {Pods} pods bound here, {Sandboxes} sandboxes on record",
            _options.NodeName, _hostIp, _pods.Count, _runtime.List().Count);
        var controller = new Controller<string>(queue, this, new ControllerOptions { Name = $"kubelet {_options.NodeName}", Workers = _options.Workers }, _logger);
        await Task.WhenAll(controller.RunAsync(ct), informing);
    }

    public async Task<ReconcileResult> ReconcileAsync(string key, CancellationToken ct)
    {
        var pod = _pods.Get(key);
        var sandboxes = _runtime.List().Where(r => r.PodKey == key).ToList();
        var facts = pod is null ? null : new PodFacts(pod.Metadata.Uid, pod.Metadata.DeletionTimestamp is not null,
            pod.Status?.Phase is "Succeeded" or "Failed");
        var plan = KubeletPlan.For(facts, sandboxes.Select(s => new SandboxFacts(s.Id, s.PodUid, s.State == SandboxState.Ready,
            PodSandboxRuntime.NamespaceExists(s), _responders.ContainsKey(s.Id), s.CreatedAt)).ToList());
        foreach (var step in plan)
        {
            switch (step)
            {
                case KubeletStep.StopSandbox stop:
                    await StopAsync(sandboxes.Single(s => s.Id == stop.Id), ct);
                    break;
                case KubeletStep.RemovePod:
                    await RemoveAsync(pod!, ct);
                    break;
                case KubeletStep.StartSandbox:
                    var started = await StartAsync(pod!, ct);
                    await ServeAsync(pod!, started, ct);
                    await ReportAsync(pod!, started, ct);
                    break;
                case KubeletStep.Serve serve:
                    await ServeAsync(pod!, sandboxes.Single(s => s.Id == serve.Id), ct);
                    break;
                case KubeletStep.Report report:
                    await ReportAsync(pod!, sandboxes.Single(s => s.Id == report.Id), ct);
                    break;
            }
        }
        return ReconcileResult.Done;
    }

    private async Task StopAsync(SandboxRecord sandbox, CancellationToken ct)
    {
        if (_responders.TryRemove(sandbox.Id, out var responders)) await responders.DisposeAsync();
        await _runtime.StopAsync(sandbox, ct);
        _logger.LogInformation("stopped sandbox {Sandbox} of {Pod} ({Netns})", sandbox.Id[..12], sandbox.PodKey, sandbox.NetnsName ?? "host network");
    }

    private async Task<SandboxRecord> StartAsync(V1Pod pod, CancellationToken ct)
    {
        var previous = PodStatusReport.Annotation(pod.Metadata, PodStatusReport.SandboxAnnotation);
        if (previous is not null)
            await _events.NormalAsync(pod, "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.", ct);
        try
        {
            var sandbox = await _runtime.StartAsync(new SandboxRequest(pod.Metadata.NamespaceProperty, pod.Metadata.Name, pod.Metadata.Uid,
                pod.Spec.HostNetwork == true, PortMappings(pod)), ct);
            _logger.LogInformation("started sandbox {Sandbox} of {Pod} in {Netns}: {Addresses}", sandbox.Id[..12], ObjectKey.KeyOf(pod),
                sandbox.NetnsName ?? "host network", string.Join(", ", PodSandboxRuntime.AddressesOf(sandbox)));
            return sandbox;
        }
        catch (SandboxStartException e)
        {
            _logger.LogWarning("sandbox of {Pod} failed: {Error}", ObjectKey.KeyOf(pod), e.Message);
            await _events.WarningAsync(pod, "FailedCreatePodSandBox", $"Failed to create pod sandbox: {e.Message}", ct);
            await WriteStatusAsync(pod, PodStatusReport.Waiting(pod, _hostIp, _time.GetUtcNow()), ct);
            throw;
        }
    }

    private async Task ServeAsync(V1Pod pod, SandboxRecord sandbox, CancellationToken ct)
    {
        var path = sandbox.NetnsName is null ? null : NamedNetworkNamespace.PathOf(sandbox.NetnsName);
        var responders = PortResponders.Open(path, ObjectKey.KeyOf(pod), DeclaredPorts(pod));
        if (!_responders.TryAdd(sandbox.Id, responders))
        {
            await responders.DisposeAsync();
            return;
        }
        foreach (var problem in responders.Problems)
            await _events.WarningAsync(pod, "PortNotServed", $"{problem.Port} is not served: {problem.Reason}", ct);
    }

    private async Task ReportAsync(V1Pod pod, SandboxRecord sandbox, CancellationToken ct)
    {
        var netns = NamedNetworkNamespace.PathOf(sandbox.NetnsName ?? _options.NodeNamespace);
        if (PodStatusReport.Annotation(pod.Metadata, PodStatusReport.NetnsAnnotation) != netns || PodStatusReport.Annotation(pod.Metadata, PodStatusReport.SandboxAnnotation) != sandbox.Id)
        {
            var patch = new JsonObject
            {
                ["metadata"] = new JsonObject
                {
                    ["annotations"] = new JsonObject { [PodStatusReport.NetnsAnnotation] = netns, [PodStatusReport.SandboxAnnotation] = sandbox.Id },
                },
            };
            await IgnoreGoneAsync(() => _client.CoreV1.PatchNamespacedPodAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch),
                pod.Metadata.Name, pod.Metadata.NamespaceProperty, cancellationToken: ct));
        }
        var addresses = sandbox.NetnsName is null ? [_hostIp] : PodSandboxRuntime.AddressesOf(sandbox);
        var status = PodStatusReport.Running(pod, sandbox.Id, addresses, _hostIp, sandbox.CreatedAt, _time.GetUtcNow());
        if (!PodStatusReport.Says(pod, status)) await WriteStatusAsync(pod, status, ct);
    }

    private async Task RemoveAsync(V1Pod pod, CancellationToken ct)
    {
        await IgnoreGoneAsync(() => _client.CoreV1.DeleteNamespacedPodAsync(pod.Metadata.Name, pod.Metadata.NamespaceProperty,
            new V1DeleteOptions { GracePeriodSeconds = 0, Preconditions = new V1Preconditions { Uid = pod.Metadata.Uid } }, cancellationToken: ct));
        _logger.LogInformation("deleted {Pod}", ObjectKey.KeyOf(pod));
    }

    private Task WriteStatusAsync(V1Pod pod, JsonObject status, CancellationToken ct) =>
        IgnoreGoneAsync(() => _client.CoreV1.PatchNamespacedPodStatusAsync(new V1Patch(new JsonObject { ["status"] = status }.ToJsonString(), V1Patch.PatchType.MergePatch),
            pod.Metadata.Name, pod.Metadata.NamespaceProperty, cancellationToken: ct));

    /// <summary>The Pod was deleted (404) or replaced by one with another UID (409) meanwhile: its next event brings the kubelet back.</summary>
    private static async Task IgnoreGoneAsync<T>(Func<Task<T>> call)
    {
        try { await call(); }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Conflict) { }
    }

    private async Task<string> ReadHostIpAsync(CancellationToken ct)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                var node = await _client.CoreV1.ReadNodeAsync(_options.NodeName, cancellationToken: ct);
                if (node.Status?.Addresses?.FirstOrDefault(a => a.Type == "InternalIP")?.Address is { Length: > 0 } address) return address;
                _logger.LogWarning("node {Node} reports no InternalIP yet", _options.NodeName);
            }
            catch (Exception e) when (e is HttpOperationException or HttpRequestException)
            {
                _logger.LogWarning("cannot read node {Node} (attempt {Attempt}): {Error}", _options.NodeName, attempt, e.Message);
            }
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 200 * attempt)), ct);
        }
    }

    /// <summary>Every containerPort of every container (protocol TCP when unset).</summary>
    public static IReadOnlyList<ServedPort> DeclaredPorts(V1Pod pod) =>
        pod.Spec.Containers.SelectMany(c => c.Ports ?? []).Select(p => new ServedPort(p.ContainerPort, p.Protocol ?? "TCP")).Distinct().ToList();

    /// <summary>libcni's portMappings capability from containerPorts with a hostPort, as containerd builds it.</summary>
    public static JsonObject? PortMappings(V1Pod pod)
    {
        if (pod.Spec.HostNetwork == true) return null;
        var mappings = pod.Spec.Containers.SelectMany(c => c.Ports ?? []).Where(p => p.HostPort is > 0).Select(p =>
        {
            var mapping = new JsonObject { ["hostPort"] = p.HostPort, ["containerPort"] = p.ContainerPort, ["protocol"] = (p.Protocol ?? "TCP").ToLowerInvariant() };
            if (!string.IsNullOrEmpty(p.HostIP)) mapping["hostIP"] = p.HostIP;
            return (JsonNode)mapping;
        }).ToArray();
        return mappings.Length == 0 ? null : new JsonObject { ["portMappings"] = new JsonArray(mappings) };
    }

    /// <summary>Closes every responder (a stopping kubelet leaves its sandboxes in place, as kubelet leaves containers running).</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var id in _responders.Keys.ToList())
            if (_responders.TryRemove(id, out var responders)) await responders.DisposeAsync();
    }
}
