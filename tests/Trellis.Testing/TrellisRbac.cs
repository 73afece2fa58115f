using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Trellis.ApiServer.Authorization;
using Trellis.Crds.Yaml;
using Xunit;

namespace Trellis.Testing;

/// <summary>
/// The RBAC of config/rbac (the files config/kustomization.yaml installs) applied to a test server,
/// ServiceAccount tokens from its TokenRequest API, and the check that a component run under them
/// was refused nothing and used every permission it holds: so a missing or surplus verb in
/// config/rbac fails a test before it fails a real cluster.
/// </summary>
public static class TrellisRbac
{
    public const string Namespace = "trellis-system";

    public static async Task ApplyAsync(IKubernetes admin)
    {
        try
        {
            await admin.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = Namespace } });
        }
        catch (HttpOperationException error) when (error.Response?.StatusCode == HttpStatusCode.Conflict)
        {
        }
        var root = RepositoryRoot.Find();
        var installed = File.ReadLines(Path.Combine(root, "config", "kustomization.yaml"))
            .Select(l => l.Trim()).Where(l => l.StartsWith("- rbac/", StringComparison.Ordinal)).Select(l => l[2..]);
        foreach (var file in installed)
            foreach (var document in YamlDocuments.Load(Path.Combine(root, "config", file)))
            {
                var json = document.ToJsonString();
                await (document["kind"]?.GetValue<string>() switch
                {
                    "ServiceAccount" => (Task)admin.CoreV1.CreateNamespacedServiceAccountAsync(KubernetesJson.Deserialize<V1ServiceAccount>(json), Namespace),
                    "ClusterRole" => admin.RbacAuthorizationV1.CreateClusterRoleAsync(KubernetesJson.Deserialize<V1ClusterRole>(json)),
                    "ClusterRoleBinding" => admin.RbacAuthorizationV1.CreateClusterRoleBindingAsync(KubernetesJson.Deserialize<V1ClusterRoleBinding>(json)),
                    "Role" => admin.RbacAuthorizationV1.CreateNamespacedRoleAsync(KubernetesJson.Deserialize<V1Role>(json), Namespace),
                    "RoleBinding" => admin.RbacAuthorizationV1.CreateNamespacedRoleBindingAsync(KubernetesJson.Deserialize<V1RoleBinding>(json), Namespace),
                    var kind => throw new InvalidOperationException($"config/{file}: a {kind} is not RBAC"),
                });
            }
    }

    public static async Task<string> TokenAsync(IKubernetes admin, string serviceAccount) =>
        (await admin.CoreV1.CreateNamespacedServiceAccountTokenAsync(new Authenticationv1TokenRequest { Spec = new V1TokenRequestSpec() }, serviceAccount, Namespace)).Status.Token;

    public static string UserOf(string serviceAccount) => $"system:serviceaccount:{Namespace}:{serviceAccount}";

    /// <summary>
    /// Asserts that <paramref name="serviceAccount"/> was refused nothing in <paramref name="log"/>, and that it used every
    /// "verb group/resource" config/rbac/<paramref name="rbacFile"/> grants but those in <paramref name="grantedForOthers"/>
    /// (each with the reason it is granted although this lifecycle does not need it).
    /// </summary>
    public static void AssertRefusedNothingAndUsedEverything(IEnumerable<AuthorizationRecord> log, string serviceAccount, string rbacFile,
        IReadOnlyDictionary<string, string> grantedForOthers)
    {
        var decisions = log.Where(d => d.User == UserOf(serviceAccount)).ToList();
        Assert.True(decisions.Count > 0, $"{serviceAccount} made no request under its own identity");
        var refused = decisions.Where(d => !d.Allowed).Select(Permission).Distinct().ToList();
        Assert.True(refused.Count == 0, $"{serviceAccount} was refused: " + string.Join(", ", refused));

        var granted = Granted(rbacFile).ToHashSet();
        var stale = grantedForOthers.Keys.Where(p => !granted.Contains(p)).ToList();
        Assert.True(stale.Count == 0, $"listed as granted for others but not in config/rbac/{rbacFile}: " + string.Join(", ", stale));
        var used = decisions.Select(Permission).ToHashSet();
        var unused = granted.Where(p => !used.Contains(p) && !grantedForOthers.ContainsKey(p)).ToList();
        Assert.True(unused.Count == 0, $"config/rbac/{rbacFile} grants {serviceAccount} what it never uses: " + string.Join(", ", unused));
    }

    private static string Permission(AuthorizationRecord d) =>
        $"{d.Verb} {(d.ApiGroup is { Length: > 0 } g ? g + "/" : "")}{d.Resource}";

    /// <summary>Every "verb group/resource" the Roles and ClusterRoles of config/rbac/<paramref name="rbacFile"/> grant.</summary>
    private static IEnumerable<string> Granted(string rbacFile)
    {
        foreach (var document in YamlDocuments.Load(Path.Combine(RepositoryRoot.Find(), "config", "rbac", rbacFile)))
        {
            if (document["kind"]?.GetValue<string>() is not ("ClusterRole" or "Role")) continue;
            foreach (var rule in document["rules"]!.AsArray())
            foreach (var group in rule!["apiGroups"]!.AsArray().Select(g => g!.GetValue<string>()))
            foreach (var resource in rule["resources"]!.AsArray().Select(r => r!.GetValue<string>()))
            foreach (var verb in rule["verbs"]!.AsArray().Select(v => v!.GetValue<string>()))
                yield return $"{verb} {(group.Length > 0 ? group + "/" : "")}{resource}";
        }
    }
}
