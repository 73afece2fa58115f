namespace Trellis.ApiServer.Routing;

/// <summary>
/// A request path for a resource: /api/v1/... or /apis/{group}/{version}/..., optionally with
/// the legacy /watch/ prefix, a namespace, a name and a subresource.
/// </summary>
public sealed record ResourcePath(string Group, string Version, string? Namespace, string Plural, string? Name, string? Subresource, bool WatchPrefix)
{
    /// <summary>Null when the path is not a resource path (discovery, health, unknown).</summary>
    public static ResourcePath? Parse(string path)
    {
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();
        string group, version;
        int rest;
        if (segments.Length >= 3 && segments[0] == "api")
        {
            group = "";
            version = segments[1];
            rest = 2;
        }
        else if (segments.Length >= 4 && segments[0] == "apis")
        {
            group = segments[1];
            version = segments[2];
            rest = 3;
        }
        else return null;

        var tail = segments[rest..];
        var watch = false;
        if (tail.Length > 0 && tail[0] == "watch")
        {
            watch = true;
            tail = tail[1..];
        }
        string? @namespace = null;
        // namespaces/{name}/status and /finalize are subresources of the namespace itself, not resources in it.
        if (tail.Length >= 3 && tail[0] == "namespaces" && !(group.Length == 0 && tail.Length == 3 && tail[2] is "status" or "finalize"))
        {
            @namespace = tail[1];
            tail = tail[2..];
        }
        return tail.Length switch
        {
            1 => new ResourcePath(group, version, @namespace, tail[0], null, null, watch),
            2 => new ResourcePath(group, version, @namespace, tail[0], tail[1], null, watch),
            3 when !watch => new ResourcePath(group, version, @namespace, tail[0], tail[1], tail[2], watch),
            _ => null,
        };
    }
}
