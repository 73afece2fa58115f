using Trellis.ApiServer.Storage;

namespace Trellis.ApiServer.Authorization;

/// <param name="ApiGroup">Null for a non-resource request, whose <paramref name="Resource"/> is then the path.</param>
/// <param name="Resource">resource or resource/subresource.</param>
public sealed record AuthorizationRecord(string User, string Verb, string? ApiGroup, string Resource, string Namespace, bool Allowed);

/// <summary>
/// The server's authorizer: system:masters first, then RBAC over the Roles and bindings in the
/// store, re-read only when one of them was written since the last request.
/// </summary>
public sealed class Authorizer(ObjectStore store)
{
    private const int LogLimit = 100_000;
    private readonly System.Collections.Concurrent.ConcurrentQueue<AuthorizationRecord> _log = new();

    /// <summary>The decisions about requests of users outside system:masters, oldest first (the last 100,000).</summary>
    public IReadOnlyList<AuthorizationRecord> Log => _log.ToArray();

    /// <summary>Raised for every request refused to a user outside system:masters, on the request's thread.</summary>
    public event Action<AuthorizationRecord>? Refused;

    /// <summary>Remembers a request's decision, so tests can tell which rules a component used and what it was refused.</summary>
    public void Record(RequestAttributes request, Decision decision)
    {
        if (request.User.Groups.Contains(Authentication.UserInfo.Masters)) return;
        var record = new AuthorizationRecord(request.User.Name, request.Verb, request.IsResourceRequest ? request.ApiGroup : null,
            request.IsResourceRequest ? request.ResourceWithSubresource : request.Path, request.Namespace, decision.Allowed);
        _log.Enqueue(record);
        while (_log.Count > LogLimit) _log.TryDequeue(out _);
        if (!decision.Allowed) Refused?.Invoke(record);
    }

    private static readonly StorageKey[] RbacKeys =
        [BuiltInResources.Roles.Key, BuiltInResources.ClusterRoles.Key, BuiltInResources.RoleBindings.Key, BuiltInResources.ClusterRoleBindings.Key];

    private readonly object _lock = new();
    private Snapshot _snapshot = new(-1, RbacPolicy.Empty);

    private sealed record Snapshot(long Revision, RbacPolicy Policy);

    public Decision Authorize(RequestAttributes request) => RbacAuthorizer.Authorize(request, Policy());

    public RbacPolicy Policy()
    {
        var revision = store.LastWriteRevision(RbacKeys);
        var snapshot = Volatile.Read(ref _snapshot);
        if (snapshot.Revision == revision) return snapshot.Policy;
        lock (_lock)
        {
            if (_snapshot.Revision == revision) return _snapshot.Policy;
            var roles = store.List(BuiltInResources.Roles, null).Items.ToDictionary(r => (r.Namespace, r.Name), r => RbacPolicy.RulesOf(r.Root));
            var clusterRoles = store.List(BuiltInResources.ClusterRoles, null).Items.ToDictionary(r => r.Name, r => RbacPolicy.RulesOf(r.Root));
            var roleBindings = store.List(BuiltInResources.RoleBindings, null).Items.Select(b => RoleBinding.FromJson(b.Root, b.Namespace)).ToArray();
            var clusterRoleBindings = store.List(BuiltInResources.ClusterRoleBindings, null).Items.Select(b => RoleBinding.FromJson(b.Root, "")).ToArray();
            var policy = new RbacPolicy(roles, clusterRoles, roleBindings, clusterRoleBindings);
            Volatile.Write(ref _snapshot, new Snapshot(revision, policy));
            return policy;
        }
    }
}
