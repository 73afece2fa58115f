namespace Trellis.ApiServer.Storage;

/// <summary>The resources every cluster has that Trellis, kubectl and KubernetesClient use.</summary>
public static class BuiltInResources
{
    public static readonly ResourceType Namespaces = new()
    {
        Group = "", Version = "v1", Plural = "namespaces", Singular = "namespace", Kind = "Namespace", Namespaced = false, HasStatus = true,
        ShortNames = ["ns"], StorageVersion = "v1",
        PrinterColumns = [new("Status", "string", ".status.phase"), new("Age", "date", ".metadata.creationTimestamp")],
    };

    public static readonly ResourceType Nodes = new()
    {
        Group = "", Version = "v1", Plural = "nodes", Singular = "node", Kind = "Node", Namespaced = false, HasStatus = true,
        ShortNames = ["no"], StorageVersion = "v1",
    };

    /// <summary>Pods as a kubelet and a scheduler use them: defaults and validation (Pods/PodStrategy), pods/binding, graceful deletion; printed by Tables/PodTable.</summary>
    public static readonly ResourceType Pods = new()
    {
        Group = "", Version = "v1", Plural = "pods", Singular = "pod", Kind = "Pod", Namespaced = true, HasStatus = true,
        ShortNames = ["po"], Categories = ["all"], StorageVersion = "v1",
    };

    public static readonly ResourceType CoreEvents = new()
    {
        Group = "", Version = "v1", Plural = "events", Singular = "event", Kind = "Event", Namespaced = true,
        ShortNames = ["ev"], StorageVersion = "v1",
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

    public static readonly ResourceType CustomResourceDefinitions = new()
    {
        Group = "apiextensions.k8s.io", Version = "v1", Plural = "customresourcedefinitions", Singular = "customresourcedefinition",
        Kind = "CustomResourceDefinition", Namespaced = false, HasStatus = true, AllowUnconditionalUpdate = false, ShortNames = ["crd", "crds"], Categories = ["api-extensions"],
        StorageVersion = "v1",
        PrinterColumns = [new("Created At", "string", ".metadata.creationTimestamp")],
    };

    public static readonly IReadOnlyList<ResourceType> All = [Namespaces, Nodes, Pods, CoreEvents, Leases, Events, CustomResourceDefinitions];
}
