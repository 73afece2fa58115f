using Trellis.ApiServer.Authorization;

namespace Trellis.ApiServer.Authentication;

/// <summary>
/// Impersonate-User, Impersonate-Group, Impersonate-Uid and Impersonate-Extra-* (kubectl --as,
/// --as-group, --as-uid): each thing asked for must be allowed to the requester with the verb
/// "impersonate" (users, groups, serviceaccounts, authentication.k8s.io uids and
/// userextras/&lt;key&gt;), then the request runs as the impersonated user, as kube-apiserver does it.
/// </summary>
public static class Impersonation
{
    public const string UserHeader = "Impersonate-User";
    public const string GroupHeader = "Impersonate-Group";
    public const string UidHeader = "Impersonate-Uid";
    public const string ExtraHeaderPrefix = "Impersonate-Extra-";

    /// <param name="headers">Every request header, name → values.</param>
    /// <returns>The requester when nothing is impersonated, otherwise the impersonated user.</returns>
    /// <exception cref="ApiError">400 for groups, uid or extras without a user; 403 naming the first thing not allowed.</exception>
    public static UserInfo Apply(UserInfo requester, IEnumerable<KeyValuePair<string, IReadOnlyList<string>>> headers, Func<RequestAttributes, Decision> authorize)
    {
        var all = headers.ToList();
        IReadOnlyList<string> Values(string name) => all.Where(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).SelectMany(h => h.Value).Where(v => v.Length > 0).ToArray();
        var user = Values(UserHeader).FirstOrDefault();
        var groupsRequested = Values(GroupHeader);
        var uid = Values(UidHeader).FirstOrDefault();
        var extras = all.Where(h => h.Key.StartsWith(ExtraHeaderPrefix, StringComparison.OrdinalIgnoreCase))
            .SelectMany(h => h.Value.Select(v => (Key: Uri.UnescapeDataString(h.Key[ExtraHeaderPrefix.Length..].ToLowerInvariant()), Value: v))).ToArray();
        if (user is null)
        {
            if (groupsRequested.Count > 0 || uid is not null || extras.Length > 0)
                throw ApiError.BadRequest($"requested impersonation of {string.Join(", ", groupsRequested.Select(g => $"group \"{g}\"").Concat(uid is null ? [] : [$"uid \"{uid}\""]).Concat(extras.Select(e => $"extra \"{e.Key}\"")))} without impersonating a user");
            return requester;
        }

        void Check(RequestAttributes acting)
        {
            var decision = authorize(acting);
            if (!decision.Allowed) throw acting.Forbidden(decision.Reason);
        }
        var impersonate = new RequestAttributes(requester, "impersonate", true, ApiVersion: "v1");
        var groups = new List<string>();
        if (UserInfo.ParseServiceAccount(user) is { } serviceAccount)
        {
            Check(impersonate with { Resource = "serviceaccounts", Namespace = serviceAccount.Namespace, Name = serviceAccount.Name });
            if (groupsRequested.Count == 0) groups.AddRange([UserInfo.ServiceAccountsGroup, $"{UserInfo.ServiceAccountsGroup}:{serviceAccount.Namespace}"]);
        }
        else Check(impersonate with { Resource = "users", Name = user });
        foreach (var group in groupsRequested)
        {
            Check(impersonate with { Resource = "groups", Name = group });
            groups.Add(group);
        }
        var extra = new Dictionary<string, List<string>>();
        foreach (var (key, value) in extras)
        {
            Check(impersonate with { ApiGroup = "authentication.k8s.io", Resource = "userextras", Subresource = key, Name = value });
            if (!extra.TryGetValue(key, out var list)) extra[key] = list = [];
            list.Add(value);
        }
        if (uid is not null) Check(impersonate with { ApiGroup = "authentication.k8s.io", Resource = "uids", Name = uid });

        if (user != UserInfo.Anonymous)
        {
            if (!groups.Contains(UserInfo.Authenticated) && !groups.Contains(UserInfo.Unauthenticated)) groups.Add(UserInfo.Authenticated);
        }
        else if (!groups.Contains(UserInfo.Unauthenticated)) groups.Add(UserInfo.Unauthenticated);
        return new UserInfo(user, groups, uid ?? "", extra.ToDictionary(e => e.Key, e => (IReadOnlyList<string>)e.Value));
    }
}
