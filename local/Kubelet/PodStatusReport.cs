using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Trellis.ApiServer.Storage;

namespace Trellis.Local.Kubelet;

/// <summary>
/// The status a kubelet writes for a pod, as merge-patch bodies for pods/status, and whether the
/// Pod already says it (so a resync writes nothing). Pure.
/// </summary>
public static class PodStatusReport
{
    /// <summary>The sandbox's network namespace path: where to enter the pod, e.g. to probe from it.</summary>
    public const string NetnsAnnotation = "local.trellis.io/netns";

    /// <summary>The sandbox ID (CNI_CONTAINERID): new with every sandbox, so a re-created sandbox shows.</summary>
    public const string SandboxAnnotation = "local.trellis.io/sandbox";

    /// <summary>An annotation's value, or null.</summary>
    public static string? Annotation(V1ObjectMeta? metadata, string key) =>
        metadata?.Annotations is { } annotations && annotations.TryGetValue(key, out var value) ? value : null;

    private static readonly string[] ConditionTypes = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"];

    /// <summary>Every container running and ready in the sandbox, with the sandbox's addresses.</summary>
    public static JsonObject Running(V1Pod pod, string sandboxId, IReadOnlyList<string> podIps, string hostIp, DateTimeOffset startedAt, DateTimeOffset now)
    {
        var status = Common(pod, hostIp, now);
        status["phase"] = "Running";
        status["podIP"] = podIps.Count > 0 ? podIps[0] : null;
        status["podIPs"] = podIps.Count > 0 ? new JsonArray(podIps.Select(ip => (JsonNode)new JsonObject { ["ip"] = ip }).ToArray()) : null;
        status["conditions"] = Conditions(pod, now, ConditionTypes.ToDictionary(t => t, _ => (true, (string?)null, (string?)null)));
        status["containerStatuses"] = new JsonArray(pod.Spec.Containers.Select(container =>
        {
            var previous = pod.Status?.ContainerStatuses?.FirstOrDefault(s => s.Name == container.Name);
            var id = ContainerId(sandboxId, container.Name);
            var restarts = (previous?.RestartCount ?? 0) + (previous?.ContainerID is { Length: > 0 } old && old != id ? 1 : 0);
            return (JsonNode)new JsonObject
            {
                ["name"] = container.Name,
                ["image"] = container.Image,
                ["imageID"] = "",
                ["containerID"] = id,
                ["ready"] = true,
                ["started"] = true,
                ["restartCount"] = restarts,
                ["state"] = new JsonObject { ["running"] = new JsonObject { ["startedAt"] = ObjectStore.Rfc3339(startedAt) } },
            };
        }).ToArray());
        return status;
    }

    /// <summary>No sandbox: Pending, no address, every container waiting in ContainerCreating.</summary>
    public static JsonObject Waiting(V1Pod pod, string hostIp, DateTimeOffset now)
    {
        var status = Common(pod, hostIp, now);
        status["phase"] = "Pending";
        status["podIP"] = null;
        status["podIPs"] = null;
        var unready = $"containers with unready status: [{string.Join(" ", pod.Spec.Containers.Select(c => c.Name))}]";
        status["conditions"] = Conditions(pod, now, new Dictionary<string, (bool, string?, string?)>
        {
            ["PodReadyToStartContainers"] = (false, null, null),
            ["Initialized"] = (true, null, null),
            ["Ready"] = (false, "ContainersNotReady", unready),
            ["ContainersReady"] = (false, "ContainersNotReady", unready),
            ["PodScheduled"] = (true, null, null),
        });
        status["containerStatuses"] = new JsonArray(pod.Spec.Containers.Select(container => (JsonNode)new JsonObject
        {
            ["name"] = container.Name,
            ["image"] = container.Image,
            ["imageID"] = "",
            ["ready"] = false,
            ["started"] = false,
            ["restartCount"] = pod.Status?.ContainerStatuses?.FirstOrDefault(s => s.Name == container.Name)?.RestartCount ?? 0,
            ["state"] = new JsonObject { ["waiting"] = new JsonObject { ["reason"] = "ContainerCreating" } },
        }).ToArray());
        return status;
    }

    /// <summary>Whether <paramref name="pod"/>'s status already says what <paramref name="desired"/> says, times aside.</summary>
    public static bool Says(V1Pod pod, JsonObject desired) =>
        Signature(JsonNode.Parse(KubernetesJson.Serialize(pod.Status ?? new V1PodStatus())) as JsonObject ?? []) == Signature(desired);

    /// <summary>A container's ID as the kubelet reports it: runtime://hex, derived from the sandbox so it changes with it.</summary>
    public static string ContainerId(string sandboxId, string containerName) =>
        "trellis-local://" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes($"{sandboxId}/{containerName}"))).ToLowerInvariant();

    private static JsonObject Common(V1Pod pod, string hostIp, DateTimeOffset now) => new()
    {
        ["hostIP"] = hostIp,
        ["hostIPs"] = new JsonArray(new JsonObject { ["ip"] = hostIp }),
        ["startTime"] = ObjectStore.Rfc3339(pod.Status?.StartTime is { } start ? new DateTimeOffset(DateTime.SpecifyKind(start, DateTimeKind.Utc)) : now),
    };

    private static JsonArray Conditions(V1Pod pod, DateTimeOffset now, IReadOnlyDictionary<string, (bool Status, string? Reason, string? Message)> wanted) =>
        new(ConditionTypes.Select(type =>
        {
            var (ok, reason, message) = wanted[type];
            var status = ok ? "True" : "False";
            var previous = pod.Status?.Conditions?.FirstOrDefault(c => c.Type == type);
            var since = previous?.Status == status && previous.LastTransitionTime is { } at
                ? new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)) : now;
            var condition = new JsonObject { ["type"] = type, ["status"] = status, ["lastProbeTime"] = null, ["lastTransitionTime"] = ObjectStore.Rfc3339(since) };
            if (reason is not null) condition["reason"] = reason;
            if (message is not null) condition["message"] = message;
            return (JsonNode)condition;
        }).ToArray());

    private static string Signature(JsonObject status)
    {
        string Text(JsonNode? node) => node?.ToJsonString() ?? "";
        var conditions = (status["conditions"] as JsonArray ?? []).OfType<JsonObject>()
            .OrderBy(c => c["type"]?.ToString(), StringComparer.Ordinal).Select(c => $"{c["type"]}={c["status"]}");
        var containers = (status["containerStatuses"] as JsonArray ?? []).OfType<JsonObject>()
            .OrderBy(c => c["name"]?.ToString(), StringComparer.Ordinal)
            .Select(c => $"{c["name"]}:{c["containerID"]}:{Text(c["ready"])}:{Text(c["restartCount"])}:{string.Join(",", (c["state"] as JsonObject ?? []).Select(p => p.Key))}");
        return string.Join("|", Text(status["phase"]), Text(status["podIP"]),
            string.Join(",", (status["podIPs"] as JsonArray ?? []).Select(i => i?["ip"]?.ToString())), Text(status["hostIP"]),
            string.Join(",", conditions), string.Join(",", containers));
    }
}
