namespace Trellis.ApiServer.Authentication;

/// <summary>Who a request is from, as authentication decided it: the user.Info of kube-apiserver.</summary>
public sealed record UserInfo(string Name, IReadOnlyList<string> Groups, string Uid = "", IReadOnlyDictionary<string, IReadOnlyList<string>>? Extra = null)
{
    public const string Authenticated = "system:authenticated";
    public const string Unauthenticated = "system:unauthenticated";
    public const string Anonymous = "system:anonymous";
    /// <summary>Members are allowed everything without RBAC, as kube-apiserver's privileged-group authorizer does.</summary>
    public const string Masters = "system:masters";
    public const string ServiceAccountPrefix = "system:serviceaccount:";
    public const string ServiceAccountsGroup = "system:serviceaccounts";

    public IReadOnlyDictionary<string, IReadOnlyList<string>> Extras => Extra ?? new Dictionary<string, IReadOnlyList<string>>();

    /// <summary>The identity of a ServiceAccount, with the groups every ServiceAccount has.</summary>
    public static UserInfo ServiceAccount(string @namespace, string name, string uid = "", IReadOnlyDictionary<string, IReadOnlyList<string>>? extra = null) =>
        new(ServiceAccountUserName(@namespace, name), [ServiceAccountsGroup, $"{ServiceAccountsGroup}:{@namespace}", Authenticated], uid, extra);

    public static string ServiceAccountUserName(string @namespace, string name) => $"{ServiceAccountPrefix}{@namespace}:{name}";

    /// <summary>(namespace, name) when the user name is a ServiceAccount's.</summary>
    public static (string Namespace, string Name)? ParseServiceAccount(string userName)
    {
        if (!userName.StartsWith(ServiceAccountPrefix, StringComparison.Ordinal)) return null;
        var parts = userName[ServiceAccountPrefix.Length..].Split(':');
        return parts.Length == 2 && parts[0].Length > 0 && parts[1].Length > 0 ? (parts[0], parts[1]) : null;
    }
}

/// <param name="Token">The bearer token a client presents.</param>
public sealed record StaticToken(string Token, UserInfo User);
