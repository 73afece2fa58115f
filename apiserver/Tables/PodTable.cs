using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Trellis.ApiServer.Storage;

namespace Trellis.ApiServer.Tables;

/// <summary>
/// The pod table kube-apiserver prints (its printPod, as of 1.32): READY is ready/declared
/// containers, STATUS the phase overridden by a container's waiting or terminated reason and by
/// Terminating, RESTARTS the sum of restart counts; -o wide adds IP, NODE, NOMINATED NODE, READINESS GATES.
/// </summary>
public static class PodTable
{
    public static bool Prints(ResourceType type) => type.Group.Length == 0 && type.Plural == "pods";

    public static readonly IReadOnlyList<PrinterColumn> Columns =
    [
        new("Name", "string", ".metadata.name", "name", "Name must be unique within a namespace."),
        new("Ready", "string", "", "", "The aggregate readiness state of this pod for accepting traffic."),
        new("Status", "string", "", "", "The aggregate status of the containers in this pod."),
        new("Restarts", "string", "", "", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
        new("Age", "string", ".metadata.creationTimestamp", "", "CreationTimestamp is a timestamp representing the server time when this object was created."),
        new("IP", "string", "", "", "podIP address allocated to the pod. Routable at least within the cluster.", 1),
        new("Node", "string", "", "", "NodeName indicates in which node this pod is scheduled.", 1),
        new("Nominated Node", "string", "", "", "nominatedNodeName is set only when this pod preempts other pods on the node.", 1),
        new("Readiness Gates", "string", "", "", "If specified, all readiness gates will be evaluated for pod readiness.", 1),
    ];

    public static JsonArray Cells(JsonElement pod, DateTimeOffset now)
    {
        var status = Field(pod, "status");
        var spec = Field(pod, "spec");
        var metadata = Field(pod, "metadata");
        var phase = Text(status, "phase");
        var reason = Text(status, "reason") is { Length: > 0 } statusReason ? statusReason : phase;
        foreach (var condition in Items(status, "conditions"))
            if (Text(condition, "type") == "PodScheduled" && Text(condition, "reason") == "SchedulingGated") reason = "SchedulingGated";

        int restarts = 0, ready = 0;
        bool hasRunning = false;
        foreach (var container in Items(status, "containerStatuses").Reverse())
        {
            if (Field(container, "restartCount") is { ValueKind: JsonValueKind.Number } count && count.TryGetInt32(out var n)) restarts += n;
            var state = Field(container, "state");
            var waiting = Field(state, "waiting");
            var terminated = Field(state, "terminated");
            if (Text(waiting, "reason") is { Length: > 0 } waitingReason) reason = waitingReason;
            else if (Text(terminated, "reason") is { Length: > 0 } terminatedReason) reason = terminatedReason;
            else if (terminated is { ValueKind: JsonValueKind.Object })
                reason = Number(terminated, "signal") is { } signal and not 0 ? $"Signal:{signal}" : $"ExitCode:{Number(terminated, "exitCode") ?? 0}";
            else if (Field(container, "ready") is { ValueKind: JsonValueKind.True } && Field(state, "running") is { ValueKind: JsonValueKind.Object })
            {
                hasRunning = true;
                ready++;
            }
        }
        if (reason == "Completed" && hasRunning)
            reason = Items(status, "conditions").Any(c => Text(c, "type") == "Ready") ? "Running" : "NotReady";
        if (Text(metadata, "deletionTimestamp") is { Length: > 0 })
        {
            if (Text(status, "reason") == "NodeLost") reason = "Unknown";
            else if (phase is not ("Succeeded" or "Failed")) reason = "Terminating";
        }

        var created = Text(metadata, "creationTimestamp");
        var age = DateTimeOffset.TryParse(created, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? HumanDuration.Format(now - time) : "<unknown>";
        var podIp = Items(status, "podIPs").Select(i => Text(i, "ip")).FirstOrDefault() is { Length: > 0 } ip ? ip : "<none>";
        var gates = Items(spec, "readinessGates").ToList();
        var gatesCell = "<none>";
        if (gates.Count > 0)
        {
            var conditions = Items(status, "conditions").ToList();
            int passed = gates.Count(g => conditions.Any(c => Text(c, "type") == Text(g, "conditionType") && Text(c, "status") == "True"));
            gatesCell = $"{passed}/{gates.Count}";
        }
        return
        [
            Text(metadata, "name") ?? "",
            $"{ready}/{Items(spec, "containers").Count()}",
            reason ?? "",
            restarts.ToString(CultureInfo.InvariantCulture),
            age,
            podIp,
            Text(spec, "nodeName") is { Length: > 0 } node ? node : "<none>",
            Text(status, "nominatedNodeName") is { Length: > 0 } nominated ? nominated : "<none>",
            gatesCell,
        ];
    }

    private static JsonElement? Field(JsonElement? parent, string name) =>
        parent is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty(name, out var value) ? value : null;

    private static string? Text(JsonElement? parent, string name) =>
        Field(parent, name) is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;

    private static long? Number(JsonElement? parent, string name) =>
        Field(parent, name) is { ValueKind: JsonValueKind.Number } value && value.TryGetInt64(out var n) ? n : null;

    private static IEnumerable<JsonElement> Items(JsonElement? parent, string name) =>
        Field(parent, name) is { ValueKind: JsonValueKind.Array } array ? array.EnumerateArray() : [];
}
