using Trellis.ApiServer.Schema;

namespace Trellis.ApiServer.Storage;

/// <summary>Where objects of a resource live, shared by every served version of it.</summary>
public readonly record struct StorageKey(string Group, string Plural)
{
    public override string ToString() => Group.Length == 0 ? Plural : $"{Plural}.{Group}";
}

/// <param name="JsonPath">Simple JSONPath as kubectl's additionalPrinterColumns use it (".spec.x").</param>
public sealed record PrinterColumn(string Name, string Type, string JsonPath, string Format = "", string Description = "", int Priority = 0);

/// <summary>One served version of one resource: everything routing, storage, discovery and tables need to know.</summary>
public sealed record ResourceType
{
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
    public bool IsCustom { get; init; }
    /// <summary>
    /// Whether a PUT without metadata.resourceVersion overwrites unconditionally (nodes, leases,
    /// events, namespaces) or is refused with 422 (custom resources and CRDs), as in the real strategies.
    /// </summary>
    public bool AllowUnconditionalUpdate { get; init; } = true;
    /// <summary>The version objects are stored in; reads of another served version only rewrite apiVersion.</summary>
    public string StorageVersion { get; init; } = "";
    public StorageKey Key => new(Group, Plural);
    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";
}
