using System.Text.Json;
using System.Text.Json.Nodes;
using Trellis.ApiServer.Authentication;
using Trellis.ApiServer.Storage;

namespace Trellis.ApiServer.Authorization;

/// <summary>
/// What the real server checks when a Role, ClusterRole or binding is written: the object's own
/// validation (422), and RBAC's escalation prevention (403): nobody grants a permission they do
/// not hold, unless allowed to "escalate" (roles) or "bind" (the role a binding refers to).
/// </summary>
public static class RbacWrites
{
    public static bool Concerns(ResourceType type) =>
        type == BuiltInResources.Roles || type == BuiltInResources.ClusterRoles || type == BuiltInResources.RoleBindings || type == BuiltInResources.ClusterRoleBindings;

    /// <param name="before">The stored object on an update, null on a create.</param>
    public static void Admit(ResourceType type, JsonObject obj, JsonObject? before, UserInfo user, Authorizer authorizer)
    {
        var name = obj["metadata"]?["name"]?.GetValue<string>() ?? "";
        var @namespace = type.Namespaced ? obj["metadata"]?["namespace"]?.GetValue<string>() ?? "" : "";
        using var document = JsonDocument.Parse(obj.ToJsonString());
        var root = document.RootElement;
        var causes = new List<StatusCause>();
        IReadOnlyList<PolicyRule> granted;
        if (type == BuiltInResources.Roles || type == BuiltInResources.ClusterRoles)
        {
            var rules = RbacPolicy.RulesOf(root);
            for (var i = 0; i < rules.Count; i++) ValidateRule(rules[i], $"rules[{i}]", type.Namespaced, causes);
            if (causes.Count > 0) throw ApiError.Invalid(type, name, causes);
            if (user.Groups.Contains(UserInfo.Masters) || Allowed(authorizer, user, "escalate", type.Plural, @namespace, name)) return;
            granted = rules;
        }
        else
        {
            var binding = RoleBinding.FromJson(root, @namespace);
            ValidateBinding(type, binding, causes);
            if (before?["roleRef"] is { } roleRefBefore && !JsonNode.DeepEquals(roleRefBefore, obj["roleRef"]))
                causes.Add(new StatusCause("FieldValueInvalid", $"Invalid value: {obj["roleRef"]?.ToJsonString()}: cannot change roleRef", "roleRef"));
            if (causes.Count > 0) throw ApiError.Invalid(type, name, causes);
            var roleResource = binding.RoleKind == "Role" ? "roles" : "clusterroles";
            if (user.Groups.Contains(UserInfo.Masters) || Allowed(authorizer, user, "bind", roleResource, @namespace, binding.RoleName)) return;
            var policy = authorizer.Policy();
            granted = binding.RoleKind == "Role"
                ? policy.Roles.GetValueOrDefault((@namespace, binding.RoleName)) ?? []
                : policy.ClusterRoles.GetValueOrDefault(binding.RoleName) ?? [];
        }
        var errors = new List<string>();
        var owned = RbacAuthorizer.RulesFor(user, @namespace, authorizer.Policy(), errors).SelectMany(r => r.Rules).ToArray();
        var uncovered = RbacAuthorizer.Uncovered(owned, granted);
        if (uncovered.Count == 0) return;
        var message = $"user \"{user.Name}\" (groups=[{string.Join(" ", user.Groups.Select(g => $"\"{g}\""))}]) is attempting to grant RBAC permissions not currently held:\n"
            + string.Join("\n", uncovered.Select(r => r.ToString()));
        if (errors.Count > 0) message += $"; resolution errors: [{string.Join(" ", errors)}]";
        throw new ApiError(403, "Forbidden", $"{type.Plural}.{type.Group} \"{name}\" is forbidden: {message}") { Name = name, Group = type.Group, Kind = type.Plural };
    }

    private static bool Allowed(Authorizer authorizer, UserInfo user, string verb, string resource, string @namespace, string name) =>
        authorizer.Authorize(new RequestAttributes(user, verb, true, "", "rbac.authorization.k8s.io", "v1", resource, "", @namespace, name)).Allowed;

    private static void ValidateRule(PolicyRule rule, string path, bool namespaced, List<StatusCause> causes)
    {
        if (rule.Verbs.Count == 0) causes.Add(new("FieldValueRequired", "Required value: verbs must contain at least one value", $"{path}.verbs"));
        if (rule.NonResourceUrls.Count > 0)
        {
            var urls = "[]string{" + string.Join(", ", rule.NonResourceUrls.Select(u => $"\"{u}\"")) + "}";
            if (namespaced) causes.Add(new("FieldValueInvalid", $"Invalid value: {urls}: namespaced rules cannot apply to non-resource URLs", $"{path}.nonResourceURLs"));
            if (rule.ApiGroups.Count > 0 || rule.Resources.Count > 0 || rule.ResourceNames.Count > 0)
                causes.Add(new("FieldValueInvalid", $"Invalid value: {urls}: rules cannot apply to both regular resources and non-resource URLs", $"{path}.nonResourceURLs"));
            return;
        }
        if (rule.ApiGroups.Count == 0) causes.Add(new("FieldValueRequired", "Required value: resource rules must supply at least one api group", $"{path}.apiGroups"));
        if (rule.Resources.Count == 0) causes.Add(new("FieldValueRequired", "Required value: resource rules must supply at least one resource", $"{path}.resources"));
    }

    private static void ValidateBinding(ResourceType type, RoleBinding binding, List<StatusCause> causes)
    {
        var kinds = type == BuiltInResources.RoleBindings ? new[] { "Role", "ClusterRole" } : ["ClusterRole"];
        if (!kinds.Contains(binding.RoleKind))
            causes.Add(new("FieldValueNotSupported", $"Unsupported value: \"{binding.RoleKind}\": supported values: {string.Join(", ", kinds.Select(k => $"\"{k}\""))}", "roleRef.kind"));
        if (binding.RoleName.Length == 0) causes.Add(new("FieldValueRequired", "Required value", "roleRef.name"));
        for (var i = 0; i < binding.Subjects.Count; i++)
        {
            var subject = binding.Subjects[i];
            var path = $"subjects[{i}]";
            if (subject.Name.Length == 0) causes.Add(new("FieldValueRequired", "Required value", $"{path}.name"));
            if (subject.Kind is not ("ServiceAccount" or "User" or "Group"))
                causes.Add(new("FieldValueNotSupported", $"Unsupported value: \"{subject.Kind}\": supported values: \"ServiceAccount\", \"User\", \"Group\"", $"{path}.kind"));
            if (subject.Kind == "ServiceAccount" && subject.Namespace.Length == 0 && type == BuiltInResources.ClusterRoleBindings)
                causes.Add(new("FieldValueRequired", "Required value", $"{path}.namespace"));
        }
    }
}
