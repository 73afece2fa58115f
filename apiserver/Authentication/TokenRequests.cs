using System.Globalization;
using System.Text.Json.Nodes;
using Trellis.ApiServer.Storage;

namespace Trellis.ApiServer.Authentication;

/// <summary>
/// The TokenRequest API (POST serviceaccounts/{name}/token, what <c>kubectl create token</c> and
/// the kubelet use): a bound token for an existing ServiceAccount, an hour by default.
/// </summary>
public static class TokenRequests
{
    private static readonly ResourceType TokenRequestType = new()
    {
        Group = "authentication.k8s.io", Version = "v1", Plural = "tokenrequests", Singular = "tokenrequest", Kind = "TokenRequest", Namespaced = true,
    };

    public static JsonObject Issue(JsonObject? request, StoredObject serviceAccount, ServiceAccountTokens tokens, DateTimeOffset now)
    {
        var spec = request?["spec"] as JsonObject ?? new JsonObject();
        var seconds = spec["expirationSeconds"]?.GetValue<long>() ?? 3600;
        if (seconds < 600)
            throw ApiError.Invalid(TokenRequestType, serviceAccount.Name, [new StatusCause("FieldValueInvalid",
                $"Invalid value: {seconds}: may not specify a duration less than 10 minutes", "spec.expirationSeconds")]);
        if (seconds > 1L << 32)
            throw ApiError.Invalid(TokenRequestType, serviceAccount.Name, [new StatusCause("FieldValueInvalid",
                $"Invalid value: {seconds}: may not specify a duration larger than 2^32 seconds", "spec.expirationSeconds")]);
        var audiences = spec["audiences"] is JsonArray { Count: > 0 } requested
            ? requested.Select(a => a!.GetValue<string>()).ToArray()
            : ServiceAccountTokens.DefaultAudiences;
        var issued = DateTimeOffset.FromUnixTimeSeconds(now.ToUnixTimeSeconds());
        var expires = issued.AddSeconds(seconds);
        var token = tokens.Issue(new ServiceAccountClaims(serviceAccount.Namespace, serviceAccount.Name, serviceAccount.Uid, audiences, issued, expires, Guid.NewGuid().ToString()));
        return new JsonObject
        {
            ["kind"] = "TokenRequest",
            ["apiVersion"] = "authentication.k8s.io/v1",
            ["metadata"] = new JsonObject { ["name"] = serviceAccount.Name, ["namespace"] = serviceAccount.Namespace, ["creationTimestamp"] = ObjectStore.Rfc3339(issued) },
            ["spec"] = new JsonObject
            {
                ["audiences"] = new JsonArray(audiences.Select(a => (JsonNode)a).ToArray()),
                ["expirationSeconds"] = seconds,
                ["boundObjectRef"] = spec["boundObjectRef"]?.DeepClone(),
            },
            ["status"] = new JsonObject
            {
                ["token"] = token,
                ["expirationTimestamp"] = expires.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            },
        };
    }
}
