using System.Text.Json.Nodes;
using Trellis.ApiServer.Storage;

namespace Trellis.ApiServer.OpenApi;

/// <summary>
/// The OpenAPI schemas of the built-in kinds this server serves, with the fields kubectl explain
/// and validation meet most. Parts not described here (a Pod's or a Deployment's spec) are
/// x-kubernetes-preserve-unknown-fields: kubectl shows them as objects and this server accepts
/// any field in them, where a real server knows every field.
/// </summary>
public static class BuiltInSchemas
{
    public const string ObjectMetaName = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
    public const string ListMetaName = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";

    private static JsonObject S(string type, string description = "") => description.Length > 0
        ? new JsonObject { ["type"] = type, ["description"] = description }
        : new JsonObject { ["type"] = type };

    private static JsonObject StringMap(string description) => new()
    {
        ["type"] = "object", ["description"] = description, ["additionalProperties"] = new JsonObject { ["type"] = "string", ["default"] = "" },
    };

    private static JsonObject Strings(string description, string listType = "atomic") => new()
    {
        ["type"] = "array", ["description"] = description, ["items"] = new JsonObject { ["type"] = "string", ["default"] = "" }, ["x-kubernetes-list-type"] = listType,
    };

    private static JsonObject Open(string description) => new()
    {
        ["type"] = "object", ["description"] = description, ["x-kubernetes-preserve-unknown-fields"] = true,
    };

    public static JsonObject ObjectMeta() => new()
    {
        ["type"] = "object",
        ["description"] = "ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.",
        ["properties"] = new JsonObject
        {
            ["name"] = S("string", "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically."),
            ["generateName"] = S("string", "GenerateName is an optional prefix, used by the server, to generate a unique name ONLY IF the Name field has not been provided."),
            ["namespace"] = S("string", "Namespace defines the space within which each name must be unique."),
            ["uid"] = S("string", "UID is the unique in time and space value for this object. Populated by the system. Read-only."),
            ["resourceVersion"] = S("string", "An opaque value that represents the internal version of this object. Populated by the system. Read-only."),
            ["generation"] = new JsonObject { ["type"] = "integer", ["format"] = "int64", ["description"] = "A sequence number representing a specific generation of the desired state. Populated by the system. Read-only." },
            ["creationTimestamp"] = new JsonObject { ["type"] = "string", ["format"] = "date-time", ["description"] = "CreationTimestamp is a timestamp representing the server time when this object was created. Populated by the system. Read-only." },
            ["deletionTimestamp"] = new JsonObject { ["type"] = "string", ["format"] = "date-time", ["description"] = "DeletionTimestamp is RFC 3339 date and time at which this resource will be deleted. Populated by the system when a graceful deletion is requested. Read-only." },
            ["deletionGracePeriodSeconds"] = new JsonObject { ["type"] = "integer", ["format"] = "int64", ["description"] = "Number of seconds allowed for this object to gracefully terminate before it will be removed from the system. Read-only." },
            ["labels"] = StringMap("Map of string keys and values that can be used to organize and categorize (scope and select) objects."),
            ["annotations"] = StringMap("Annotations is an unstructured key value map stored with a resource that may be set by external tools to store and retrieve arbitrary metadata."),
            ["finalizers"] = Strings("Must be empty before the object is deleted from the registry. Each entry is an identifier for the responsible component that will remove the entry from the list.", "set"),
            ["ownerReferences"] = new JsonObject
            {
                ["type"] = "array",
                ["description"] = "List of objects depended by this object. If ALL objects in the list have been deleted, this object will be garbage collected.",
                ["items"] = new JsonObject
                {
                    ["type"] = "object",
                    ["required"] = new JsonArray("apiVersion", "kind", "name", "uid"),
                    ["properties"] = new JsonObject
                    {
                        ["apiVersion"] = S("string", "API version of the referent."),
                        ["kind"] = S("string", "Kind of the referent."),
                        ["name"] = S("string", "Name of the referent."),
                        ["uid"] = S("string", "UID of the referent."),
                        ["controller"] = S("boolean", "If true, this reference points to the managing controller."),
                        ["blockOwnerDeletion"] = S("boolean", "If true, AND if the owner has the \"foregroundDeletion\" finalizer, then the owner cannot be deleted from the key-value store until this reference is removed."),
                    },
                    ["x-kubernetes-map-type"] = "atomic",
                },
                ["x-kubernetes-list-type"] = "map",
                ["x-kubernetes-list-map-keys"] = new JsonArray("uid"),
                ["x-kubernetes-patch-merge-key"] = "uid",
                ["x-kubernetes-patch-strategy"] = "merge",
            },
            ["managedFields"] = new JsonObject
            {
                ["type"] = "array",
                ["description"] = "ManagedFields maps workflow-id and version to the set of fields that are managed by that workflow.",
                ["items"] = new JsonObject
                {
                    ["type"] = "object",
                    ["properties"] = new JsonObject
                    {
                        ["manager"] = S("string", "Manager is an identifier of the workflow managing these fields."),
                        ["operation"] = S("string", "Operation is the type of operation which lead to this ManagedFieldsEntry being created. The only valid values for this field are 'Apply' and 'Update'."),
                        ["apiVersion"] = S("string", "APIVersion defines the version of this resource that this field set applies to."),
                        ["time"] = new JsonObject { ["type"] = "string", ["format"] = "date-time", ["description"] = "Time is the timestamp of when the ManagedFields entry was added." },
                        ["fieldsType"] = S("string", "FieldsType is the discriminator for the different fields format and version. There is currently only one possible value: \"FieldsV1\""),
                        ["fieldsV1"] = new JsonObject { ["type"] = "object", ["description"] = "FieldsV1 holds the first JSON version format as described in the \"FieldsV1\" type." },
                        ["subresource"] = S("string", "Subresource is the name of the subresource used to update that object, or empty string if the object was updated through the main resource."),
                    },
                },
                ["x-kubernetes-list-type"] = "atomic",
            },
        },
    };

    public static JsonObject ListMeta() => new()
    {
        ["type"] = "object",
        ["description"] = "ListMeta describes metadata that synthetic resources must have, including lists and various status objects.",
        ["properties"] = new JsonObject
        {
            ["resourceVersion"] = S("string", "String that identifies the server's internal version of this object that can be used by clients to determine when objects have changed."),
            ["continue"] = S("string", "continue may be set if the user set a limit on the number of items returned."),
        },
    };

    /// <summary>Whether <see cref="Properties"/> describes the kind's fields (rather than accepting any spec and status).</summary>
    public static bool Describes(ResourceType type) => (type.Group, type.Kind) is ("", "ConfigMap" or "ServiceAccount" or "Namespace")
        or ("rbac.authorization.k8s.io", _) or ("coordination.k8s.io", "Lease");

    /// <summary>The kind-specific properties of a built-in kind (apiVersion, kind and metadata are added by the caller).</summary>
    public static JsonObject Properties(ResourceType type) => (type.Group, type.Kind) switch
    {
        ("", "ConfigMap") => new JsonObject
        {
            ["data"] = StringMap("Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'."),
            ["binaryData"] = new JsonObject { ["type"] = "object", ["description"] = "BinaryData contains the binary data.", ["additionalProperties"] = new JsonObject { ["type"] = "string", ["format"] = "byte" } },
            ["immutable"] = S("boolean", "Immutable, if set to true, ensures that data stored in the ConfigMap cannot be updated (only object metadata can be modified)."),
        },
        ("", "ServiceAccount") => new JsonObject
        {
            ["automountServiceAccountToken"] = S("boolean", "AutomountServiceAccountToken indicates whether pods running as this service account should have an API token automatically mounted."),
            ["secrets"] = new JsonObject { ["type"] = "array", ["description"] = "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.", ["items"] = Open("ObjectReference contains enough information to let you inspect or modify the referred object.") },
            ["imagePullSecrets"] = new JsonObject { ["type"] = "array", ["description"] = "ImagePullSecrets is a list of references to secrets in the same namespace to use for pulling any images in pods that reference this ServiceAccount.", ["items"] = Open("LocalObjectReference contains enough information to let you locate the referenced object inside the same namespace.") },
        },
        ("rbac.authorization.k8s.io", "Role" or "ClusterRole") => new JsonObject
        {
            ["rules"] = new JsonObject
            {
                ["type"] = "array",
                ["description"] = $"Rules holds all the PolicyRules for this {type.Kind}",
                ["items"] = new JsonObject
                {
                    ["type"] = "object",
                    ["description"] = "PolicyRule holds information that describes a policy rule, but does not contain information about who the rule applies to or which namespace the rule applies to.",
                    ["required"] = new JsonArray("verbs"),
                    ["properties"] = new JsonObject
                    {
                        ["verbs"] = Strings("Verbs is a list of Verbs that apply to ALL the ResourceKinds contained in this rule. '*' represents all verbs."),
                        ["apiGroups"] = Strings("APIGroups is the name of the APIGroup that contains the resources. If multiple API groups are specified, any action requested against one of the enumerated resources in any API group will be allowed. \"\" represents the core API group and \"*\" represents all API groups."),
                        ["resources"] = Strings("Resources is a list of resources this rule applies to. '*' represents all resources."),
                        ["resourceNames"] = Strings("ResourceNames is an optional white list of names that the rule applies to. An empty set means that everything is allowed."),
                        ["nonResourceURLs"] = Strings("NonResourceURLs is a set of partial urls that a user should have access to. *s are allowed, but only as the full, final step in the path."),
                    },
                },
                ["x-kubernetes-list-type"] = "atomic",
            },
            ["aggregationRule"] = Open("AggregationRule is an optional field that describes how to build the Rules for this ClusterRole. This server does not aggregate."),
        },
        ("rbac.authorization.k8s.io", "RoleBinding" or "ClusterRoleBinding") => new JsonObject
        {
            ["roleRef"] = new JsonObject
            {
                ["type"] = "object",
                ["description"] = "RoleRef can only reference a ClusterRole in the global namespace" + (type.Kind == "RoleBinding" ? " or a Role in the RoleBinding's namespace" : "") + ". If the RoleRef cannot be resolved, the Authorizer must return an error. This field is immutable.",
                ["required"] = new JsonArray("apiGroup", "kind", "name"),
                ["properties"] = new JsonObject
                {
                    ["apiGroup"] = S("string", "APIGroup is the group for the resource being referenced"),
                    ["kind"] = S("string", "Kind is the type of resource being referenced"),
                    ["name"] = S("string", "Name is the name of resource being referenced"),
                },
                ["x-kubernetes-map-type"] = "atomic",
            },
            ["subjects"] = new JsonObject
            {
                ["type"] = "array",
                ["description"] = "Subjects holds references to the objects the role applies to.",
                ["items"] = new JsonObject
                {
                    ["type"] = "object",
                    ["required"] = new JsonArray("kind", "name"),
                    ["properties"] = new JsonObject
                    {
                        ["kind"] = S("string", "Kind of object being referenced. Values defined by this API group are \"User\", \"Group\", and \"ServiceAccount\"."),
                        ["apiGroup"] = S("string", "APIGroup holds the API group of the referenced subject. Defaults to \"\" for ServiceAccount subjects. Defaults to \"rbac.authorization.k8s.io\" for User and Group subjects."),
                        ["name"] = S("string", "Name of the object being referenced."),
                        ["namespace"] = S("string", "Namespace of the referenced object."),
                    },
                    ["x-kubernetes-map-type"] = "atomic",
                },
                ["x-kubernetes-list-type"] = "atomic",
            },
        },
        ("coordination.k8s.io", "Lease") => new JsonObject
        {
            ["spec"] = new JsonObject
            {
                ["type"] = "object",
                ["description"] = "spec contains the specification of the Lease.",
                ["properties"] = new JsonObject
                {
                    ["holderIdentity"] = S("string", "holderIdentity contains the identity of the holder of a current lease."),
                    ["leaseDurationSeconds"] = new JsonObject { ["type"] = "integer", ["format"] = "int32", ["description"] = "leaseDurationSeconds is a duration that candidates for a lease need to wait to force acquire it." },
                    ["acquireTime"] = new JsonObject { ["type"] = "string", ["format"] = "date-time", ["description"] = "acquireTime is a time when the current lease was acquired." },
                    ["renewTime"] = new JsonObject { ["type"] = "string", ["format"] = "date-time", ["description"] = "renewTime is a time when the current holder of a lease has last updated the lease." },
                    ["leaseTransitions"] = new JsonObject { ["type"] = "integer", ["format"] = "int32", ["description"] = "leaseTransitions is the number of transitions of a lease between holders." },
                },
            },
        },
        ("", "Namespace") => new JsonObject
        {
            ["spec"] = new JsonObject { ["type"] = "object", ["description"] = "Spec defines the behavior of the Namespace.", ["properties"] = new JsonObject { ["finalizers"] = Strings("Finalizers is an opaque list of values that must be empty to permanently remove object from storage.") } },
            ["status"] = new JsonObject { ["type"] = "object", ["description"] = "Status describes the current status of a Namespace.", ["properties"] = new JsonObject { ["phase"] = S("string", "Phase is the current lifecycle phase of the namespace.") } },
        },
        _ when type.CreateOnly => new JsonObject
        {
            ["spec"] = Open($"Spec holds information about the request being evaluated."),
            ["status"] = Open($"Status is filled in by the server and indicates the answer."),
        },
        _ => new JsonObject
        {
            ["spec"] = Open($"The desired state of the {type.Kind} (not described by this server's OpenAPI; any field is accepted)."),
            ["status"] = Open($"The observed state of the {type.Kind} (not described by this server's OpenAPI)."),
        },
    };

    /// <summary>The OpenAPI definition name of a kind: io.k8s.api.core.v1.Node for built-ins, the reversed group for CRDs (io.trellis.v1alpha1.PodNetwork).</summary>
    public static string DefinitionName(ResourceType type, string kind)
    {
        if (type.IsCustom) return $"{string.Join('.', type.Group.Split('.').Reverse())}.{type.Version}.{kind}";
        var package = type.Group switch
        {
            "" => "core",
            "apiextensions.k8s.io" => null,
            var g => g.Replace(".k8s.io", "").Split('.')[0],
        };
        return package is null
            ? $"io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.{type.Version}.{kind}"
            : $"io.k8s.api.{package}.{type.Version}.{kind}";
    }
}
