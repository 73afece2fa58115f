namespace Trellis.ControllerRuntime.Clients;

/// <summary>A consistent snapshot: the items and the resource version a watch resumes from.</summary>
public sealed record ListResult<T>(IReadOnlyList<T> Items, string ResourceVersion);
