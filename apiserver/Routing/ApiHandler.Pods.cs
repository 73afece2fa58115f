using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Trellis.ApiServer.Pods;
using Trellis.ApiServer.Storage;

namespace Trellis.ApiServer.Routing;

/// <summary>What the HTTP edge does for pods beyond storage: pods/binding, admission, DeleteOptions.gracePeriodSeconds.</summary>
internal sealed partial class ApiHandler
{
    private static bool IsPods(ResourceType type) => type == BuiltInResources.Pods;

    private static bool ServesSubresource(ResourceType type, string subresource) =>
        (subresource == "status" && type.HasStatus) || type.ExtraSubresources.Any(s => s.Name == subresource);

    /// <summary>POST pods/{name}/binding: 201 with a Success Status, as kube-apiserver answers.</summary>
    private async Task BindAsync(HttpContext context, ResourcePath path, ResourceType type)
    {
        metrics.Count("create", "pods/binding");
        var binding = await ReadJsonAsync(context);
        store.Update(type, path.Namespace, path.Name!, current => PodBinding.Bind(current, binding, path.Name!, time.GetUtcNow()), UpdateScope.MainAndStatus);
        metrics.CountWrite();
        await WriteJsonAsync(context, 201, new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Success",
            ["code"] = 201,
        });
    }

    /// <summary>Pods get the pod strategy's defaults and checks on every write of the pod and of pods/status.</summary>
    private static void AdmitPod(ResourceType type, ResourcePath path, JsonObject? before, JsonObject candidate)
    {
        if (!IsPods(type)) return;
        if (before is null) PodStrategy.PrepareForCreate(candidate);
        else if (path.Subresource == "status") PodStrategy.ValidateStatus(candidate);
        else PodStrategy.PrepareForUpdate(before, candidate);
    }

    /// <summary>DeleteOptions.gracePeriodSeconds from the body, else from the query (client-go sends either).</summary>
    private static long? GracePeriodOf(HttpContext context, JsonNode? options)
    {
        if (options?["gracePeriodSeconds"] is JsonValue value)
        {
            if (value.GetValueKind() == JsonValueKind.Number && value.TryGetValue<long>(out var seconds)) return seconds;
            if (value.GetValueKind() != JsonValueKind.Null) throw ApiError.BadRequest($"DeleteOptions.gracePeriodSeconds must be an integer, not {value.ToJsonString()}");
        }
        if (context.Request.Query["gracePeriodSeconds"].ToString() is { Length: > 0 } text)
            return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seconds)
                ? seconds
                : throw ApiError.BadRequest($"gracePeriodSeconds \"{text}\" is not an integer");
        return null;
    }
}
