using System.Text.Json;
using System.Text.Json.Nodes;
using Trellis.ApiServer.Storage;

namespace Trellis.ApiServer.Pods;

/// <summary>
/// pods/binding, as the scheduler uses it: sets spec.nodeName once, copies the binding's
/// annotations and marks the pod PodScheduled. A pod already bound or being deleted is a conflict.
/// </summary>
public static class PodBinding
{
    /// <summary>The pod bound as <paramref name="binding"/> asks; throws the error the real server gives otherwise.</summary>
    public static JsonObject Bind(JsonObject pod, JsonNode? binding, string podName, DateTimeOffset now)
    {
        var type = BuiltInResources.Pods;
        if (binding is not JsonObject body) throw ApiError.BadRequest($"the body of pods/binding for \"{podName}\" is not a JSON object");
        if (body["kind"]?.GetValue<string>() is { Length: > 0 } kind && kind != "Binding")
            throw ApiError.BadRequest($"the kind in the body ({kind}) does not match the kind of pods/binding (Binding)");
        var metadata = body["metadata"] as JsonObject;
        if (metadata?["name"]?.GetValue<string>() is { } name && name != podName)
            throw ApiError.BadRequest("name in URL does not match name in Binding object");
        var target = body["target"] as JsonObject;
        var targetKind = target?["kind"]?.GetValue<string>() ?? "";
        if (targetKind is not ("" or "Node"))
            throw ApiError.Invalid(type, podName, [new StatusCause("FieldValueNotSupported", $"Unsupported value: \"{targetKind}\": supported values: \"Node\"", "target.kind")]);
        var node = target?["name"]?.GetValue<string>();
        if (string.IsNullOrEmpty(node))
            throw ApiError.Invalid(type, podName, [new StatusCause("FieldValueRequired", "Required value", "target.name")]);

        var podMetadata = pod["metadata"]!.AsObject();
        if (metadata?["uid"]?.GetValue<string>() is { Length: > 0 } uid && uid != podMetadata["uid"]?.GetValue<string>())
            throw ApiError.Conflict(type, podName, $"Precondition failed: UID in precondition: {uid}, UID in object meta: {podMetadata["uid"]}");
        if (podMetadata["deletionTimestamp"] is not null)
            throw ApiError.Conflict(type, podName, $"pod {podName} is being deleted, cannot be assigned to a host");
        var spec = pod["spec"] as JsonObject ?? throw ApiError.Invalid(type, podName, [new StatusCause("FieldValueRequired", "Required value", "spec")]);
        if (spec["nodeName"]?.GetValue<string>() is { Length: > 0 } bound)
            throw ApiError.Conflict(type, podName, $"pod {podName} is already assigned to node \"{bound}\"");

        spec["nodeName"] = node;
        if (metadata?["annotations"] is JsonObject annotations && annotations.Count > 0)
        {
            var podAnnotations = podMetadata["annotations"] as JsonObject ?? new JsonObject();
            foreach (var (key, value) in annotations) podAnnotations[key] = value?.DeepClone();
            podMetadata["annotations"] = podAnnotations;
        }
        var status = pod["status"] as JsonObject ?? new JsonObject();
        pod["status"] = status;
        var conditions = status["conditions"] as JsonArray ?? [];
        status["conditions"] = conditions;
        var scheduled = conditions.OfType<JsonObject>().FirstOrDefault(c => c["type"]?.GetValue<string>() == "PodScheduled");
        if (scheduled is null) conditions.Add(scheduled = new JsonObject { ["type"] = "PodScheduled" });
        if (scheduled["status"]?.GetValue<string>() != "True") scheduled["lastTransitionTime"] = ObjectStore.Rfc3339(now);
        scheduled["status"] = "True";
        scheduled["lastProbeTime"] = null;
        scheduled.Remove("reason");
        scheduled.Remove("message");
        return pod;
    }
}
