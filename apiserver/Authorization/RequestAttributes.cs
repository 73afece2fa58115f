using Trellis.ApiServer.Authentication;
using Trellis.ApiServer.Selectors;

namespace Trellis.ApiServer.Authorization;

/// <summary>What a request asks to do, as kube-apiserver's authorizers see it (authorizer.Attributes).</summary>
public sealed record RequestAttributes(
    UserInfo User,
    string Verb,
    bool IsResourceRequest,
    string Path = "",
    string ApiGroup = "",
    string ApiVersion = "",
    string Resource = "",
    string Subresource = "",
    string Namespace = "",
    string Name = "")
{
    /// <summary>
    /// The attributes of an HTTP request, parsed as the real RequestInfoFactory does: /api and
    /// /apis paths down to a resource are resource requests (verb from the method, list/watch/
    /// deletecollection on collections, the name taken from a metadata.name field selector);
    /// every other path is a non-resource request whose verb is the lower-cased method.
    /// </summary>
    public static RequestAttributes FromRequest(UserInfo user, string method, string path, Func<string, string?> query)
    {
        var nonResource = new RequestAttributes(user, method.ToLowerInvariant(), false, path);
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToList();
        if (parts.Count < 3 || parts[0] is not ("api" or "apis")) return nonResource;
        var group = "";
        var rest = parts.Skip(1).ToList();
        if (parts[0] == "apis")
        {
            if (rest.Count < 3) return nonResource;
            group = rest[0];
            rest.RemoveAt(0);
        }
        var version = rest[0];
        rest.RemoveAt(0);
        string verb;
        if (rest.Count > 0 && rest[0] is "watch" or "proxy")
        {
            if (rest.Count < 2) return nonResource with { Verb = method.ToLowerInvariant() };
            verb = rest[0];
            rest.RemoveAt(0);
        }
        else verb = method.ToUpperInvariant() switch
        {
            "POST" => "create",
            "GET" or "HEAD" => "get",
            "PUT" => "update",
            "PATCH" => "patch",
            "DELETE" => "delete",
            _ => "",
        };
        var @namespace = "";
        if (rest.Count > 0 && rest[0] == "namespaces")
        {
            if (rest.Count > 1)
            {
                @namespace = rest[1];
                if (rest.Count > 2 && rest[2] is not ("status" or "finalize")) rest = rest.Skip(2).ToList();
            }
        }
        string resource = "", name = "", subresource = "";
        if (rest.Count >= 3 && verb != "proxy") subresource = rest[2];
        if (rest.Count >= 2) name = rest[1];
        if (rest.Count >= 1) resource = rest[0];
        if (name.Length == 0 && verb == "get")
        {
            verb = query("watch") is "true" or "1" or "True" ? "watch" : "list";
            if (FieldSelectorName(query("fieldSelector")) is { } selected) name = selected;
        }
        if (name.Length == 0 && verb == "delete") verb = "deletecollection";
        return new RequestAttributes(user, verb, true, path, group, version, resource, subresource, @namespace, name);
    }

    /// <summary>The name a field selector pins (metadata.name=x), which the real server treats as the request's name.</summary>
    private static string? FieldSelectorName(string? selector)
    {
        if (string.IsNullOrEmpty(selector)) return null;
        try
        {
            var exact = FieldSelector.Parse(selector).Requirements.Where(r => r.Path == "metadata.name" && r.Equal).Select(r => r.Value).ToList();
            return exact.Count == 1 && exact[0].Length > 0 && !exact[0].Contains('/') && exact[0] is not ("." or "..") ? exact[0] : null;
        }
        catch (FormatException) { return null; }
    }

    /// <summary>resource or resource/subresource, as RBAC rules name it.</summary>
    public string ResourceWithSubresource => Subresource.Length > 0 ? $"{Resource}/{Subresource}" : Resource;

    /// <summary>The sentence kube-apiserver's Forbidden reply carries for these attributes.</summary>
    public string ForbiddenMessage()
    {
        if (!IsResourceRequest) return $"User \"{User.Name}\" cannot {Verb} path \"{Path}\"";
        return Namespace.Length > 0
            ? $"User \"{User.Name}\" cannot {Verb} resource \"{ResourceWithSubresource}\" in API group \"{ApiGroup}\" in the namespace \"{Namespace}\""
            : $"User \"{User.Name}\" cannot {Verb} resource \"{ResourceWithSubresource}\" in API group \"{ApiGroup}\" at the cluster scope";
    }

    /// <summary>403 Forbidden, shaped as apierrors.NewForbidden makes it from these attributes and the authorizer's reason.</summary>
    public ApiError Forbidden(string reason)
    {
        var message = ForbiddenMessage() + (reason.Length > 0 ? ": " + reason : "");
        if (!IsResourceRequest) return new ApiError(403, "Forbidden", $"forbidden: {message}");
        var qualified = ApiGroup.Length > 0 ? $"{Resource}.{ApiGroup}" : Resource;
        return new ApiError(403, "Forbidden", Name.Length > 0 ? $"{qualified} \"{Name}\" is forbidden: {message}" : $"{qualified} is forbidden: {message}")
        {
            Name = Name.Length > 0 ? Name : null,
            Group = ApiGroup,
            Kind = Resource,
        };
    }
}
