namespace Trellis.ControllerRuntime.Clients;

/// <summary>The query parameters a list or a watch call sends; mapped by <see cref="ResourceClient{T,TList}"/> onto a generated KubernetesClient method.</summary>
public sealed record ListRequest(
    bool Watch,
    string? ResourceVersion,
    string? LabelSelector,
    int? TimeoutSeconds,
    bool? AllowWatchBookmarks,
    string? FieldSelector = null,
    int? Limit = null,
    string? Continue = null);
