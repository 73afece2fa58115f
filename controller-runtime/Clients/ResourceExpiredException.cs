namespace Trellis.ControllerRuntime.Clients;

/// <summary>The server answered 410 Gone: the requested resource version is older than its history, so the caller must list again.</summary>
public sealed class ResourceExpiredException(string resource, string resourceVersion, string? serverMessage)
    : Exception($"watch of {resource} from resourceVersion {resourceVersion} expired (410 Gone): {serverMessage}")
{
    public string Resource { get; } = resource;
    public string ResourceVersion { get; } = resourceVersion;
}
