namespace Trellis.ApiServer.Storage;

/// <summary>The resources every cluster has that Trellis, kubectl and KubernetesClient use.</summary>
public static class BuiltInResources
{
    public static readonly ResourceType Namespaces = new()
    {
        Group = "", Version = "v1", Plural = "namespaces", Singular = "namespace", Kind = "Namespace", Namespaced = false, HasStatus = true,
        ShortNames = ["ns"], StorageVersion = "v1", Names = NameRule.DnsLabel, SelectableFields = ["status.phase"],
        PrinterColumns = [new("Status", "string", ".status.phase"), new("Age", "date", ".metadata.creationTimestamp")],
    };

    public static readonly ResourceType Nodes = new()
    {
        Group = "", Version = "v1", Plural = "nodes", Singular = "node", Kind = "Node", Namespaced = false, HasStatus = true,
        ShortNames = ["no"], StorageVersion = "v1", SelectableFields = ["spec.unschedulable"],
    };

    /// <summary>Pods as a kubelet and a scheduler use them: defaults and validation (Pods/PodStrategy), pods/binding, graceful deletion; printed by Tables/PodTable.</summary>
    public static readonly ResourceType Pods = new()
    {
        Group = "", Version = "v1", Plural = "pods", Singular = "pod", Kind = "Pod", Namespaced = true, HasStatus = true,
        ShortNames = ["po"], Categories = ["all"], StorageVersion = "v1",
        SelectableFields =
        [
            "spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "spec.hostNetwork",
            "status.phase", "status.podIP", "status.podIPs", "status.nominatedNodeName",
        ],
        ExtraSubresources = [new("binding", "Binding", "", "v1", ["create"])],
    };

    public static readonly ResourceType CoreEvents = new()
    {
        Group = "", Version = "v1", Plural = "events", Singular = "event", Kind = "Event", Namespaced = true,
        ShortNames = ["ev"], StorageVersion = "v1",
        SelectableFields =
        [
            "involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid", "involvedObject.apiVersion",
            "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type",
        ],
        PrinterColumns =
        [
            new("Last Seen", "date", ".lastTimestamp"), new("Type", "string", ".type"), new("Reason", "string", ".reason"),
            new("Object", "string", ".involvedObject.name"), new("Message", "string", ".message"),
        ],
    };

    public static readonly ResourceType Leases = new()
    {
        Group = "coordination.k8s.io", Version = "v1", Plural = "leases", Singular = "lease", Kind = "Lease", Namespaced = true,
        StorageVersion = "v1",
        PrinterColumns = [new("Holder", "string", ".spec.holderIdentity"), new("Age", "date", ".metadata.creationTimestamp")],
    };

    public static readonly ResourceType Events = new()
    {
        Group = "events.k8s.io", Version = "v1", Plural = "events", Singular = "event", Kind = "Event", Namespaced = true,
        ShortNames = ["ev"], StorageVersion = "v1",
    };

    /// <summary>Stored as given (a real API server also validates them); the Trellis agent enforces them and reports what it cannot.</summary>
    public static readonly ResourceType NetworkPolicies = new()
    {
        Group = "networking.k8s.io", Version = "v1", Plural = "networkpolicies", Singular = "networkpolicy", Kind = "NetworkPolicy", Namespaced = true,
        ShortNames = ["netpol"], StorageVersion = "v1",
        PrinterColumns = [new("Age", "date", ".metadata.creationTimestamp")],
    };

    public static readonly ResourceType CustomResourceDefinitions = new()
    {
        Group = "apiextensions.k8s.io", Version = "v1", Plural = "customresourcedefinitions", Singular = "customresourcedefinition",
        Kind = "CustomResourceDefinition", Namespaced = false, HasStatus = true, AllowUnconditionalUpdate = false, ShortNames = ["crd", "crds"], Categories = ["api-extensions"],
        StorageVersion = "v1",
        PrinterColumns = [new("Created At", "string", ".metadata.creationTimestamp")],
    };

    public static readonly ResourceType ConfigMaps = new()
    {
        Group = "", Version = "v1", Plural = "configmaps", Singular = "configmap", Kind = "ConfigMap", Namespaced = true,
        ShortNames = ["cm"], StorageVersion = "v1",
        PrinterColumns = [new("Data", "integer", ".data"), new("Age", "date", ".metadata.creationTimestamp")],
    };

    public static readonly ResourceType ServiceAccounts = new()
    {
        Group = "", Version = "v1", Plural = "serviceaccounts", Singular = "serviceaccount", Kind = "ServiceAccount", Namespaced = true,
        ShortNames = ["sa"], StorageVersion = "v1",
        ExtraSubresources = [new("token", "TokenRequest", "authentication.k8s.io", "v1", ["create"])],
        PrinterColumns = [new("Secrets", "integer", ".secrets"), new("Age", "date", ".metadata.creationTimestamp")],
    };

    private static ResourceType Rbac(string plural, string kind, bool namespaced, IReadOnlyList<PrinterColumn> columns) => new()
    {
        Group = "rbac.authorization.k8s.io", Version = "v1", Plural = plural, Singular = kind.ToLowerInvariant(), Kind = kind,
        Namespaced = namespaced, StorageVersion = "v1", PrinterColumns = columns, Names = NameRule.PathSegment,
    };

    public static readonly ResourceType Roles = Rbac("roles", "Role", true, [new("Created At", "string", ".metadata.creationTimestamp")]);
    public static readonly ResourceType ClusterRoles = Rbac("clusterroles", "ClusterRole", false, [new("Created At", "string", ".metadata.creationTimestamp")]);
    /// <summary>kubectl's binding columns: ROLE as Kind/name, and with -o wide who is bound.</summary>
    private static readonly IReadOnlyList<PrinterColumn> BindingColumns =
    [
        new("Role", "string", "") { Compute = b => b.TryGetProperty("roleRef", out var r) ? $"{Text(r, "kind")}/{Text(r, "name")}" : "" },
        new("Age", "date", ".metadata.creationTimestamp"),
        new("Users", "string", "", Priority: 1) { Compute = b => Subjects(b, "User") },
        new("Groups", "string", "", Priority: 1) { Compute = b => Subjects(b, "Group") },
        new("ServiceAccounts", "string", "", Priority: 1) { Compute = b => Subjects(b, "ServiceAccount") },
    ];

    private static string Text(System.Text.Json.JsonElement e, string property) =>
        e.ValueKind == System.Text.Json.JsonValueKind.Object && e.TryGetProperty(property, out var v) && v.ValueKind == System.Text.Json.JsonValueKind.String ? v.GetString()! : "";

    private static string Subjects(System.Text.Json.JsonElement binding, string kind) =>
        binding.TryGetProperty("subjects", out var subjects) && subjects.ValueKind == System.Text.Json.JsonValueKind.Array
            ? string.Join(", ", subjects.EnumerateArray().Where(s => Text(s, "kind") == kind)
                .Select(s => kind == "ServiceAccount" ? $"{Text(s, "namespace")}/{Text(s, "name")}" : Text(s, "name")))
            : "";

    public static readonly ResourceType RoleBindings = Rbac("rolebindings", "RoleBinding", true, BindingColumns);
    public static readonly ResourceType ClusterRoleBindings = Rbac("clusterrolebindings", "ClusterRoleBinding", false, BindingColumns);

    /// <summary>Stored so that <c>kubectl apply -k config/</c> applies everything; nothing runs them.</summary>
    public static readonly ResourceType Deployments = new()
    {
        Group = "apps", Version = "v1", Plural = "deployments", Singular = "deployment", Kind = "Deployment", Namespaced = true, HasStatus = true,
        ShortNames = ["deploy"], Categories = ["all"], StorageVersion = "v1",
        PrinterColumns =
        [
            new("Ready", "string", "") { Compute = d => $"{Number(d, "status", "readyReplicas")}/{Number(d, "spec", "replicas", 1)}" },
            new("Up-to-date", "integer", ".status.updatedReplicas"),
            new("Available", "integer", ".status.availableReplicas"), new("Age", "date", ".metadata.creationTimestamp"),
        ],
    };

    /// <summary>Stored so that <c>kubectl apply -k config/</c> applies everything; nothing runs them.</summary>
    public static readonly ResourceType DaemonSets = new()
    {
        Group = "apps", Version = "v1", Plural = "daemonsets", Singular = "daemonset", Kind = "DaemonSet", Namespaced = true, HasStatus = true,
        ShortNames = ["ds"], Categories = ["all"], StorageVersion = "v1",
        PrinterColumns =
        [
            new("Desired", "integer", ".status.desiredNumberScheduled"), new("Current", "integer", ".status.currentNumberScheduled"),
            new("Ready", "integer", ".status.numberReady"), new("Age", "date", ".metadata.creationTimestamp"),
        ],
    };

    /// <summary>Stored so that <c>kubectl apply -k config/</c> applies everything; nothing evicts pods here, so nothing consults them.</summary>
    public static readonly ResourceType PodDisruptionBudgets = new()
    {
        Group = "policy", Version = "v1", Plural = "poddisruptionbudgets", Singular = "poddisruptionbudget", Kind = "PodDisruptionBudget", Namespaced = true, HasStatus = true,
        ShortNames = ["pdb"], StorageVersion = "v1",
        PrinterColumns =
        [
            new("Min Available", "string", ".spec.minAvailable"), new("Max Unavailable", "string", ".spec.maxUnavailable"),
            new("Allowed Disruptions", "integer", ".status.disruptionsAllowed"), new("Age", "date", ".metadata.creationTimestamp"),
        ],
    };

    private static long Number(System.Text.Json.JsonElement obj, string section, string field, long absent = 0) =>
        obj.TryGetProperty(section, out var s) && s.ValueKind == System.Text.Json.JsonValueKind.Object && s.TryGetProperty(field, out var v) && v.TryGetInt64(out var n) ? n : absent;

    private static ResourceType Review(string group, string plural, string kind, bool namespaced = false) => new()
    {
        Group = group, Version = "v1", Plural = plural, Singular = kind.ToLowerInvariant(), Kind = kind, Namespaced = namespaced,
        StorageVersion = "v1", Verbs = ["create"],
    };

    public static readonly ResourceType SelfSubjectAccessReviews = Review("authorization.k8s.io", "selfsubjectaccessreviews", "SelfSubjectAccessReview");
    public static readonly ResourceType SelfSubjectRulesReviews = Review("authorization.k8s.io", "selfsubjectrulesreviews", "SelfSubjectRulesReview");
    public static readonly ResourceType SubjectAccessReviews = Review("authorization.k8s.io", "subjectaccessreviews", "SubjectAccessReview");
    public static readonly ResourceType LocalSubjectAccessReviews = Review("authorization.k8s.io", "localsubjectaccessreviews", "LocalSubjectAccessReview", namespaced: true);
    public static readonly ResourceType SelfSubjectReviews = Review("authentication.k8s.io", "selfsubjectreviews", "SelfSubjectReview");

    public static readonly IReadOnlyList<ResourceType> All =
    [
        Namespaces, Nodes, Pods, ConfigMaps, ServiceAccounts, CoreEvents, Leases, Events, NetworkPolicies, CustomResourceDefinitions,
        Roles, ClusterRoles, RoleBindings, ClusterRoleBindings, Deployments, DaemonSets, PodDisruptionBudgets,
        SelfSubjectAccessReviews, SelfSubjectRulesReviews, SubjectAccessReviews, LocalSubjectAccessReviews, SelfSubjectReviews,
    ];
}
