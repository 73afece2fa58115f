using k8s;
using k8s.Models;
using Trellis.Crds.Yaml;

namespace Trellis.Testing;

/// <summary>
/// The RBAC of config/rbac (the files config/kustomization.yaml installs) applied to a test server,
/// and ServiceAccount tokens from its TokenRequest API: so a component under test runs with exactly
/// the permissions a real cluster would give it.
/// </summary>
public static class TrellisRbac
{
    public const string Namespace = "trellis-system";

    public static async Task ApplyAsync(IKubernetes admin)
    {
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
}
