using System.Text.Json.Nodes;

namespace Trellis.ApiServer.Authorization;

/// <summary>
/// The ClusterRoles and ClusterRoleBindings kube-apiserver creates at start that matter here:
/// cluster-admin for system:masters, discovery and health for every authenticated user, and the
/// self-reviews (kubectl auth can-i, auth whoami) for everyone signed in.
/// </summary>
public static class BootstrapPolicy
{
    public static IReadOnlyList<JsonObject> ClusterRoles() =>
    [
        Role("cluster-admin",
            Rule(["*"], apiGroups: ["*"], resources: ["*"]),
            Rule(["*"], nonResourceUrls: ["*"])),
        Role("system:discovery",
            Rule(["get"], nonResourceUrls: ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/"])),
        Role("system:public-info-viewer",
            Rule(["get"], nonResourceUrls: ["/healthz", "/livez", "/readyz", "/version", "/version/"])),
        Role("system:basic-user",
            Rule(["create"], apiGroups: ["authorization.k8s.io"], resources: ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
            Rule(["create"], apiGroups: ["authentication.k8s.io"], resources: ["selfsubjectreviews"])),
    ];

    public static IReadOnlyList<JsonObject> ClusterRoleBindings() =>
    [
        Binding("cluster-admin", "cluster-admin", "system:masters"),
        Binding("system:discovery", "system:discovery", "system:authenticated"),
        Binding("system:public-info-viewer", "system:public-info-viewer", "system:authenticated", "system:unauthenticated"),
        Binding("system:basic-user", "system:basic-user", "system:authenticated"),
    ];

    private static JsonObject Metadata(string name) => new()
    {
        ["name"] = name,
        ["labels"] = new JsonObject { ["kubernetes.io/bootstrapping"] = "rbac-defaults" },
        ["annotations"] = new JsonObject { ["rbac.authorization.kubernetes.io/autoupdate"] = "true" },
    };

    private static JsonObject Role(string name, params JsonObject[] rules) => new()
    {
        ["apiVersion"] = "rbac.authorization.k8s.io/v1",
        ["kind"] = "ClusterRole",
        ["metadata"] = Metadata(name),
        ["rules"] = new JsonArray(rules.Select(r => (JsonNode)r).ToArray()),
    };

    private static JsonObject Rule(string[] verbs, string[]? apiGroups = null, string[]? resources = null, string[]? nonResourceUrls = null)
    {
        static JsonArray Array(string[] values) => new(values.Select(v => (JsonNode)v).ToArray());
        var rule = new JsonObject { ["verbs"] = Array(verbs) };
        if (apiGroups is not null) rule["apiGroups"] = Array(apiGroups);
        if (resources is not null) rule["resources"] = Array(resources);
        if (nonResourceUrls is not null) rule["nonResourceURLs"] = Array(nonResourceUrls);
        return rule;
    }

    private static JsonObject Binding(string name, string clusterRole, params string[] groups) => new()
    {
        ["apiVersion"] = "rbac.authorization.k8s.io/v1",
        ["kind"] = "ClusterRoleBinding",
        ["metadata"] = Metadata(name),
        ["roleRef"] = new JsonObject { ["apiGroup"] = "rbac.authorization.k8s.io", ["kind"] = "ClusterRole", ["name"] = clusterRole },
        ["subjects"] = new JsonArray(groups.Select(g => (JsonNode)new JsonObject { ["apiGroup"] = "rbac.authorization.k8s.io", ["kind"] = "Group", ["name"] = g }).ToArray()),
    };
}
