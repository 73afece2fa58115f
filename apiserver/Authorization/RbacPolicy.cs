using System.Text.Json;

namespace Trellis.ApiServer.Authorization;

/// <summary>One rule of a Role or ClusterRole (rbac.authorization.k8s.io/v1 PolicyRule).</summary>
public sealed record PolicyRule(
    IReadOnlyList<string> Verbs,
    IReadOnlyList<string> ApiGroups,
    IReadOnlyList<string> Resources,
    IReadOnlyList<string> ResourceNames,
    IReadOnlyList<string> NonResourceUrls)
{
    public static PolicyRule FromJson(JsonElement rule) => new(
        Strings(rule, "verbs"), Strings(rule, "apiGroups"), Strings(rule, "resources"), Strings(rule, "resourceNames"), Strings(rule, "nonResourceURLs"));

    private static IReadOnlyList<string> Strings(JsonElement obj, string property) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(property, out var array) && array.ValueKind == JsonValueKind.Array
            ? array.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).ToArray()
            : [];

    /// <summary>The rule as kube-apiserver prints it in escalation errors and rules reviews.</summary>
    public override string ToString()
    {
        var parts = new List<string>();
        if (ApiGroups.Count > 0) parts.Add($"APIGroups:[{Quoted(ApiGroups)}]");
        if (Resources.Count > 0) parts.Add($"Resources:[{Quoted(Resources)}]");
        if (ResourceNames.Count > 0) parts.Add($"ResourceNames:[{Quoted(ResourceNames)}]");
        if (NonResourceUrls.Count > 0) parts.Add($"NonResourceURLs:[{Quoted(NonResourceUrls)}]");
        parts.Add($"Verbs:[{Quoted(Verbs)}]");
        return "{" + string.Join(", ", parts) + "}";
    }

    private static string Quoted(IEnumerable<string> values) => string.Join(" ", values.Select(v => $"\"{v}\""));
}

/// <param name="Kind">User, Group or ServiceAccount.</param>
public sealed record Subject(string Kind, string Name, string Namespace);

/// <param name="Namespace">"" for a ClusterRoleBinding.</param>
/// <param name="RoleKind">Role or ClusterRole.</param>
public sealed record RoleBinding(string Namespace, string Name, string RoleKind, string RoleName, IReadOnlyList<Subject> Subjects)
{
    public static RoleBinding FromJson(JsonElement binding, string @namespace)
    {
        var name = binding.TryGetProperty("metadata", out var metadata) && metadata.TryGetProperty("name", out var n) ? n.GetString() ?? "" : "";
        var roleRef = binding.TryGetProperty("roleRef", out var r) ? r : default;
        string Text(JsonElement e, string p) => e.ValueKind == JsonValueKind.Object && e.TryGetProperty(p, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";
        var subjects = binding.TryGetProperty("subjects", out var s) && s.ValueKind == JsonValueKind.Array
            ? s.EnumerateArray().Select(e => new Subject(Text(e, "kind"), Text(e, "name"), Text(e, "namespace"))).ToArray()
            : [];
        return new RoleBinding(@namespace, name, Text(roleRef, "kind"), Text(roleRef, "name"), subjects);
    }
}

/// <summary>
/// Every Role, ClusterRole, RoleBinding and ClusterRoleBinding at one moment: what the RBAC
/// authorizer reads. Built from the store whenever one of them changes.
/// </summary>
public sealed class RbacPolicy
{
    public static readonly RbacPolicy Empty = new(new Dictionary<(string, string), IReadOnlyList<PolicyRule>>(), new Dictionary<string, IReadOnlyList<PolicyRule>>(), [], []);

    public RbacPolicy(
        IReadOnlyDictionary<(string Namespace, string Name), IReadOnlyList<PolicyRule>> roles,
        IReadOnlyDictionary<string, IReadOnlyList<PolicyRule>> clusterRoles,
        IReadOnlyList<RoleBinding> roleBindings,
        IReadOnlyList<RoleBinding> clusterRoleBindings)
    {
        Roles = roles;
        ClusterRoles = clusterRoles;
        ClusterRoleBindings = clusterRoleBindings;
        RoleBindingsByNamespace = roleBindings.GroupBy(b => b.Namespace).ToDictionary(g => g.Key, g => (IReadOnlyList<RoleBinding>)g.ToArray());
    }

    public IReadOnlyDictionary<(string Namespace, string Name), IReadOnlyList<PolicyRule>> Roles { get; }
    public IReadOnlyDictionary<string, IReadOnlyList<PolicyRule>> ClusterRoles { get; }
    public IReadOnlyList<RoleBinding> ClusterRoleBindings { get; }
    public IReadOnlyDictionary<string, IReadOnlyList<RoleBinding>> RoleBindingsByNamespace { get; }

    public static IReadOnlyList<PolicyRule> RulesOf(JsonElement role) =>
        role.TryGetProperty("rules", out var rules) && rules.ValueKind == JsonValueKind.Array ? rules.EnumerateArray().Select(PolicyRule.FromJson).ToArray() : [];
}
