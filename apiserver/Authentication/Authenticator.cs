using Trellis.ApiServer.Storage;

namespace Trellis.ApiServer.Authentication;

/// <summary>
/// Bearer-token authentication: static tokens (the admin's, and any the options add, like
/// --token-auth-file) and bound ServiceAccount tokens from the TokenRequest API, which stay
/// good only while their ServiceAccount exists with the uid they were issued for.
/// </summary>
public sealed class Authenticator(ObjectStore store, ServiceAccountTokens serviceAccountTokens, IReadOnlyList<StaticToken> staticTokens, bool anonymous, TimeProvider time)
{
    private readonly Dictionary<string, UserInfo> _static = staticTokens.ToDictionary(t => t.Token, t => t.User, StringComparer.Ordinal);

    public static ApiError Unauthorized() => new(401, "Unauthorized", "Unauthorized");

    /// <param name="authorization">The Authorization header, or null.</param>
    /// <returns>Who sent the request, or null when it must be refused with 401.</returns>
    public UserInfo? Authenticate(string? authorization)
    {
        if (string.IsNullOrWhiteSpace(authorization))
            return anonymous ? new UserInfo(UserInfo.Anonymous, [UserInfo.Unauthenticated]) : null;
        var parts = authorization.Trim().Split(' ', 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length != 2 || !parts[0].Equals("Bearer", StringComparison.OrdinalIgnoreCase) || parts[1].Length == 0) return null;
        var token = parts[1];
        if (_static.TryGetValue(token, out var user)) return user;
        if (serviceAccountTokens.Verify(token, time.GetUtcNow()) is not { } claims) return null;
        try
        {
            var account = store.Get(BuiltInResources.ServiceAccounts, claims.Namespace, claims.Name);
            if (account.Uid != claims.Uid) return null;
            if (account.Root.GetProperty("metadata").TryGetProperty("deletionTimestamp", out _)) return null;
        }
        catch (ApiError e) when (e.Code == 404) { return null; }
        return UserInfo.ServiceAccount(claims.Namespace, claims.Name, claims.Uid,
            new Dictionary<string, IReadOnlyList<string>> { ["authentication.kubernetes.io/credential-id"] = [$"JTI={claims.Id}"] });
    }
}
