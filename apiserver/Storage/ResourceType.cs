using Trellis.ApiServer.Schema;

namespace Trellis.ApiServer.Storage;

/// <summary>Where objects of a resource live, shared by every served version of it.</summary>
public readonly record struct StorageKey(string Group, string Plural)
{
    public override string ToString() => Group.Length == 0 ? Plural : $"{Plural}.{Group}";
}

/// <param name="JsonPath">Simple JSONPath as kubectl's additionalPrinterColumns use it (".spec.x").</param>
public sealed record PrinterColumn(string Name, string Type, string JsonPath, string Format = "", string Description = "", int Priority = 0)
{
    /// <summary>For built-ins whose real printer computes a cell (RoleBinding's "Role/name"), instead of <see cref="JsonPath"/>.</summary>
    public Func<System.Text.Json.JsonElement, System.Text.Json.Nodes.JsonNode?>? Compute { get; init; }
}

/// <summary>How a kind's names are validated: most are DNS subdomains, namespaces DNS labels, RBAC objects any path segment.</summary>
public enum NameRule { DnsSubdomain, DnsLabel, PathSegment }

public sealed record SubresourceInfo(string Name, string Kind, string Group, string Version, IReadOnlyList<string> Verbs);

/// <summary>One served version of one resource: everything routing, storage, discovery and tables need to know.</summary>
public sealed record ResourceType
{
    public static readonly IReadOnlyList<string> StandardVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

    public required string Group { get; init; }
    public required string Version { get; init; }
    public required string Plural { get; init; }
    public required string Singular { get; init; }
    public required string Kind { get; init; }
    private readonly string? _listKind;
    public string ListKind { get => _listKind ?? Kind + "List"; init => _listKind = value; }
    public required bool Namespaced { get; init; }
    public bool HasStatus { get; init; }
    public IReadOnlyList<string> ShortNames { get; init; } = [];
    public IReadOnlyList<string> Categories { get; init; } = [];
    public IReadOnlyList<PrinterColumn> PrinterColumns { get; init; } = [];
    public StructuralSchema? Schema { get; init; }
    /// <summary>A CRD version's openAPIV3Schema as written, for the published OpenAPI documents.</summary>
    public System.Text.Json.Nodes.JsonObject? OpenApiSchema { get; init; }
    /// <summary>The compiled x-kubernetes-validations of <see cref="Schema"/>, or null when it has none.</summary>
    public CelValidator? Rules { get; init; }
    public bool IsCustom { get; init; }
    /// <summary>
    /// Whether a PUT without metadata.resourceVersion overwrites unconditionally (nodes, leases,
    /// events, namespaces) or is refused with 422 (custom resources and CRDs), as in the real strategies.
    /// </summary>
    public bool AllowUnconditionalUpdate { get; init; } = true;
    /// <summary>The version objects are stored in; reads of another served version only rewrite apiVersion.</summary>
    public string StorageVersion { get; init; } = "";
    /// <summary>The verbs discovery lists; a create-only resource (a review) is answered, never stored.</summary>
    public IReadOnlyList<string> Verbs { get; init; } = StandardVerbs;
    public bool CreateOnly => Verbs is ["create"];
    public NameRule Names { get; init; } = NameRule.DnsSubdomain;
    private readonly IReadOnlyList<string> _selectableFields = [];
    /// <summary>
    /// The fields ?fieldSelector= may name: metadata.name (and metadata.namespace for namespaced
    /// kinds), plus a built-in's own list or a CRD version's selectableFields.
    /// </summary>
    public IReadOnlyList<string> SelectableFields
    {
        get => (Namespaced || !IsCustom ? new[] { "metadata.name", "metadata.namespace" } : ["metadata.name"]).Concat(_selectableFields).Distinct().ToArray();
        init => _selectableFields = value;
    }
    /// <summary>Subresources other than status that discovery lists (name, kind, group/version of the kind, verbs).</summary>
    public IReadOnlyList<SubresourceInfo> ExtraSubresources { get; init; } = [];
    public StorageKey Key => new(Group, Plural);
    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";
}
