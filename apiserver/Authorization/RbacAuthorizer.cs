using Trellis.ApiServer.Authentication;

namespace Trellis.ApiServer.Authorization;

/// <param name="Reason">Why, in the words kube-apiserver uses (empty when RBAC has nothing to say).</param>
public sealed record Decision(bool Allowed, string Reason);

/// <summary>
/// The RBAC authorizer, pure: which of the user's bindings (ClusterRoleBindings, then the
/// RoleBindings of the request's namespace) grants a rule that allows the request. Rules are
/// matched exactly as Kubernetes does: verbs, API groups, resource or resource/subresource
/// (with "*" and "*/subresource"), resourceNames, and nonResourceURLs with a trailing "*" prefix.
/// </summary>
public static class RbacAuthorizer
{
    /// <summary>Members of system:masters are allowed everything before RBAC is asked, as in kube-apiserver.</summary>
    public static Decision Authorize(RequestAttributes request, RbacPolicy policy)
    {
        if (request.User.Groups.Contains(UserInfo.Masters)) return new Decision(true, "");
        var errors = new List<string>();
        foreach (var (binding, subject, rules) in RulesFor(request.User, request.Namespace, policy, errors))
            if (rules.Any(rule => Allows(rule, request)))
                return new Decision(true, $"RBAC: allowed by {Describe(binding, subject)}");
        return new Decision(false, errors.Count switch
        {
            0 => "",
            1 => $"RBAC: {errors[0]}",
            _ => $"RBAC: [{string.Join(", ", errors)}]",
        });
    }

    /// <summary>Every rule granted to <paramref name="user"/> cluster-wide and in <paramref name="namespace"/> (when not ""), with the binding that grants it.</summary>
    public static IEnumerable<(RoleBinding Binding, Subject Subject, IReadOnlyList<PolicyRule> Rules)> RulesFor(UserInfo user, string @namespace, RbacPolicy policy, List<string> errors)
    {
        foreach (var binding in policy.ClusterRoleBindings)
        {
            var subject = binding.Subjects.FirstOrDefault(s => AppliesTo(s, user, ""));
            if (subject is null) continue;
            if (binding.RoleKind != "ClusterRole" || !policy.ClusterRoles.TryGetValue(binding.RoleName, out var rules))
            {
                errors.Add($"clusterrole.rbac.authorization.k8s.io \"{binding.RoleName}\" not found");
                continue;
            }
            yield return (binding, subject, rules);
        }
        if (@namespace.Length == 0 || !policy.RoleBindingsByNamespace.TryGetValue(@namespace, out var bindings)) yield break;
        foreach (var binding in bindings)
        {
            var subject = binding.Subjects.FirstOrDefault(s => AppliesTo(s, user, @namespace));
            if (subject is null) continue;
            IReadOnlyList<PolicyRule>? rules = null;
            var found = binding.RoleKind switch
            {
                "ClusterRole" => policy.ClusterRoles.TryGetValue(binding.RoleName, out rules),
                "Role" => policy.Roles.TryGetValue((@namespace, binding.RoleName), out rules),
                _ => false,
            };
            if (!found)
            {
                errors.Add($"{binding.RoleKind.ToLowerInvariant()}.rbac.authorization.k8s.io \"{binding.RoleName}\" not found");
                continue;
            }
            yield return (binding, subject, rules!);
        }
    }

    public static bool AppliesTo(Subject subject, UserInfo user, string bindingNamespace) => subject.Kind switch
    {
        "User" => subject.Name == user.Name,
        "Group" => user.Groups.Contains(subject.Name),
        "ServiceAccount" => (subject.Namespace.Length > 0 ? subject.Namespace : bindingNamespace) is { Length: > 0 } ns
            && user.Name == UserInfo.ServiceAccountUserName(ns, subject.Name),
        _ => false,
    };

    public static bool Allows(PolicyRule rule, RequestAttributes request)
    {
        if (!rule.Verbs.Contains("*") && !rule.Verbs.Contains(request.Verb)) return false;
        if (!request.IsResourceRequest)
            return rule.NonResourceUrls.Any(url => url == "*" || url == request.Path || (url.EndsWith('*') && request.Path.StartsWith(url[..^1], StringComparison.Ordinal)));
        if (!rule.ApiGroups.Contains("*") && !rule.ApiGroups.Contains(request.ApiGroup)) return false;
        if (!ResourceMatches(rule.Resources, request.ResourceWithSubresource, request.Subresource)) return false;
        return rule.ResourceNames.Count == 0 || (request.Name.Length > 0 && rule.ResourceNames.Contains(request.Name));
    }

    private static bool ResourceMatches(IReadOnlyList<string> resources, string combined, string subresource) =>
        resources.Any(r => r == "*" || r == combined || (subresource.Length > 0 && r == "*/" + subresource));

    /// <summary>The binding that allowed a request, as the RBAC authorizer's reason names it.</summary>
    public static string Describe(RoleBinding binding, Subject subject)
    {
        var who = subject.Kind == "ServiceAccount"
            ? $"{subject.Kind} \"{subject.Name}/{(subject.Namespace.Length > 0 ? subject.Namespace : binding.Namespace)}\""
            : $"{subject.Kind} \"{subject.Name}\"";
        return binding.Namespace.Length == 0
            ? $"ClusterRoleBinding \"{binding.Name}\" of {binding.RoleKind} \"{binding.RoleName}\" to {who}"
            : $"RoleBinding \"{binding.Name}/{binding.Namespace}\" of {binding.RoleKind} \"{binding.RoleName}\" to {who}";
    }

    /// <summary>
    /// The parts of <paramref name="requested"/> that <paramref name="owned"/> does not cover: RBAC's
    /// escalation check, which breaks every rule down to one verb, group, resource and name.
    /// </summary>
    public static IReadOnlyList<PolicyRule> Uncovered(IReadOnlyList<PolicyRule> owned, IEnumerable<PolicyRule> requested) =>
        requested.SelectMany(Breakdown).Where(atom => !owned.Any(rule => Covers(rule, atom))).Distinct(RuleComparer.Instance).ToArray();

    private static IEnumerable<PolicyRule> Breakdown(PolicyRule rule)
    {
        foreach (var group in rule.ApiGroups)
        foreach (var resource in rule.Resources)
        foreach (var verb in rule.Verbs)
        {
            if (rule.ResourceNames.Count == 0) yield return new PolicyRule([verb], [group], [resource], [], []);
            else foreach (var name in rule.ResourceNames) yield return new PolicyRule([verb], [group], [resource], [name], []);
        }
        foreach (var url in rule.NonResourceUrls)
        foreach (var verb in rule.Verbs)
            yield return new PolicyRule([verb], [], [], [], [url]);
    }

    private static bool Covers(PolicyRule owner, PolicyRule atom)
    {
        bool HasAll(IReadOnlyList<string> have, IReadOnlyList<string> want) => want.All(have.Contains);
        var verbs = owner.Verbs.Contains("*") || HasAll(owner.Verbs, atom.Verbs);
        var groups = owner.ApiGroups.Contains("*") || HasAll(owner.ApiGroups, atom.ApiGroups);
        var resources = owner.Resources.Contains("*") || atom.Resources.All(r => owner.Resources.Contains(r)
            || (r.IndexOf('/') is var slash and > 0 && owner.Resources.Contains("*" + r[slash..])));
        var urls = atom.NonResourceUrls.All(u => owner.NonResourceUrls.Any(o => o == "*" || o == u || (o.EndsWith('*') && u.StartsWith(o[..^1], StringComparison.Ordinal))));
        var names = owner.ResourceNames.Count == 0 || (atom.ResourceNames.Count > 0 && HasAll(owner.ResourceNames, atom.ResourceNames));
        return verbs && groups && resources && urls && names;
    }

    private sealed class RuleComparer : IEqualityComparer<PolicyRule>
    {
        public static readonly RuleComparer Instance = new();
        public bool Equals(PolicyRule? x, PolicyRule? y) => x?.ToString() == y?.ToString();
        public int GetHashCode(PolicyRule obj) => obj.ToString().GetHashCode(StringComparison.Ordinal);
    }
}
