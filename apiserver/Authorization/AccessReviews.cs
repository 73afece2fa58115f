using System.Text.Json.Nodes;
using Trellis.ApiServer.Authentication;
using Trellis.ApiServer.Storage;

namespace Trellis.ApiServer.Authorization;

/// <summary>
/// The review resources, answered and never stored: SelfSubjectAccessReview (kubectl auth can-i),
/// SubjectAccessReview and LocalSubjectAccessReview (may user X ...?), SelfSubjectRulesReview
/// (kubectl auth can-i --list) and SelfSubjectReview (kubectl auth whoami).
/// </summary>
public static class AccessReviews
{
    /// <returns>The review with its status filled in, as the real server returns it (201).</returns>
    /// <exception cref="ApiError">422 when the spec asks nothing answerable.</exception>
    public static JsonObject Answer(ResourceType type, JsonObject review, UserInfo requester, string? urlNamespace, Authorizer authorizer)
    {
        var spec = review["spec"] as JsonObject ?? new JsonObject();
        review["metadata"] = new JsonObject { ["creationTimestamp"] = null };
        review.Remove("status");
        switch (type.Kind)
        {
            case "SelfSubjectReview":
                review["status"] = new JsonObject { ["userInfo"] = UserInfoJson(requester) };
                return review;
            case "SelfSubjectRulesReview":
                review["status"] = Rules(requester, spec["namespace"]?.GetValue<string>() ?? "", authorizer.Policy());
                return review;
        }
        var subject = type.Kind == "SelfSubjectAccessReview" ? requester : SubjectOf(type, spec);
        var resource = spec["resourceAttributes"] as JsonObject;
        var nonResource = spec["nonResourceAttributes"] as JsonObject;
        if ((resource is null) == (nonResource is null))
            throw ApiError.Invalid(type, "", [new StatusCause("FieldValueRequired",
                "Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified", "spec.resourceAttributes")]);
        string Text(JsonObject o, string p) => o[p]?.GetValue<string>() ?? "";
        RequestAttributes question;
        if (resource is not null)
        {
            var @namespace = Text(resource, "namespace");
            if (type.Kind == "LocalSubjectAccessReview")
            {
                if (@namespace.Length > 0 && @namespace != urlNamespace)
                    throw ApiError.Invalid(type, "", [new StatusCause("FieldValueInvalid",
                        $"Invalid value: \"{@namespace}\": must match metadata.namespace", "spec.resourceAttributes.namespace")]);
                @namespace = urlNamespace ?? "";
                review["metadata"]!["namespace"] = @namespace;
            }
            question = new RequestAttributes(subject, Text(resource, "verb"), true, "", Text(resource, "group"), Text(resource, "version"),
                Text(resource, "resource"), Text(resource, "subresource"), @namespace, Text(resource, "name"));
        }
        else question = new RequestAttributes(subject, Text(nonResource!, "verb"), false, Text(nonResource!, "path"));
        var decision = authorizer.Authorize(question);
        var status = new JsonObject { ["allowed"] = decision.Allowed };
        if (decision.Reason.Length > 0) status["reason"] = decision.Reason;
        review["status"] = status;
        return review;
    }

    private static UserInfo SubjectOf(ResourceType type, JsonObject spec)
    {
        var user = spec["user"]?.GetValue<string>() ?? "";
        var groups = spec["groups"] is JsonArray array ? array.Select(g => g!.GetValue<string>()).ToList() : [];
        if (user.Length == 0 && groups.Count == 0)
            throw ApiError.Invalid(type, "", [new StatusCause("FieldValueRequired", "Required value: at least one of user or group must be specified", "spec.user")]);
        var extra = spec["extra"] is JsonObject extras
            ? extras.ToDictionary(e => e.Key, e => (IReadOnlyList<string>)(e.Value as JsonArray ?? []).Select(v => v!.GetValue<string>()).ToArray())
            : null;
        return new UserInfo(user, groups, spec["uid"]?.GetValue<string>() ?? "", extra);
    }

    public static JsonObject UserInfoJson(UserInfo user)
    {
        var info = new JsonObject { ["username"] = user.Name };
        if (user.Uid.Length > 0) info["uid"] = user.Uid;
        info["groups"] = new JsonArray(user.Groups.Select(g => (JsonNode)g).ToArray());
        if (user.Extras.Count > 0)
            info["extra"] = new JsonObject(user.Extras.Select(e => KeyValuePair.Create(e.Key, (JsonNode?)new JsonArray(e.Value.Select(v => (JsonNode)v).ToArray()))));
        return info;
    }

    /// <summary>What <paramref name="user"/> may do in <paramref name="namespace"/>: the rules of every binding that applies.</summary>
    private static JsonObject Rules(UserInfo user, string @namespace, RbacPolicy policy)
    {
        static JsonArray Array(IEnumerable<string> values) => new(values.Select(v => (JsonNode)v).ToArray());
        var resourceRules = new JsonArray();
        var nonResourceRules = new JsonArray();
        var errors = new List<string>();
        IEnumerable<PolicyRule> rules = user.Groups.Contains(UserInfo.Masters)
            ? [new PolicyRule(["*"], ["*"], ["*"], [], []), new PolicyRule(["*"], [], [], [], ["*"])]
            : RbacAuthorizer.RulesFor(user, @namespace, policy, errors).SelectMany(r => r.Rules).ToArray();
        foreach (var rule in rules)
        {
            if (rule.Resources.Count > 0)
            {
                var entry = new JsonObject { ["verbs"] = Array(rule.Verbs), ["apiGroups"] = Array(rule.ApiGroups), ["resources"] = Array(rule.Resources) };
                if (rule.ResourceNames.Count > 0) entry["resourceNames"] = Array(rule.ResourceNames);
                resourceRules.Add(entry);
            }
            if (rule.NonResourceUrls.Count > 0)
                nonResourceRules.Add(new JsonObject { ["verbs"] = Array(rule.Verbs), ["nonResourceURLs"] = Array(rule.NonResourceUrls) });
        }
        var status = new JsonObject { ["resourceRules"] = resourceRules, ["nonResourceRules"] = nonResourceRules, ["incomplete"] = errors.Count > 0 };
        if (errors.Count > 0) status["evaluationError"] = string.Join(", ", errors);
        return status;
    }
}
