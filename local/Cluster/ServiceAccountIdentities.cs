using System.Reflection;
using k8s;
using k8s.Models;
using Trellis.ApiServer;
using Trellis.Crds.Yaml;

namespace Trellis.Local.Cluster;

/// <summary>
/// The identities the operator and the agents run under, as on a real cluster: the RBAC objects
/// of config/rbac (those config/kustomization.yaml lists, embedded) applied at start, and a bound
/// ServiceAccount token for each from the TokenRequest API, so every request they make is
/// authorised by exactly the rules a real cluster would give them.
/// </summary>
public static class ServiceAccountIdentities
{
    public const string OperatorAccount = "trellis-operator";
    public const string AgentAccount = "trellis-agent";

    /// <summary>Tokens live as long as the cluster is likely to be up; trellis-local does not rotate them.</summary>
    private const long TokenSeconds = 30L * 24 * 3600;

    public static async Task ApplyRbacAsync(IKubernetes admin, CancellationToken ct)
    {
        var assembly = Assembly.GetExecutingAssembly();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith("rbac/", StringComparison.Ordinal)).Order())
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            foreach (var document in YamlDocuments.Parse(new StreamReader(stream), resource))
            {
                var json = document.ToJsonString();
                Task task = document["kind"]?.GetValue<string>() switch
                {
                    "ServiceAccount" => admin.CoreV1.CreateNamespacedServiceAccountAsync(KubernetesJson.Deserialize<V1ServiceAccount>(json), LocalCluster.SystemNamespace, cancellationToken: ct),
                    "ClusterRole" => admin.RbacAuthorizationV1.CreateClusterRoleAsync(KubernetesJson.Deserialize<V1ClusterRole>(json), cancellationToken: ct),
                    "ClusterRoleBinding" => admin.RbacAuthorizationV1.CreateClusterRoleBindingAsync(KubernetesJson.Deserialize<V1ClusterRoleBinding>(json), cancellationToken: ct),
                    "Role" => admin.RbacAuthorizationV1.CreateNamespacedRoleAsync(KubernetesJson.Deserialize<V1Role>(json), LocalCluster.SystemNamespace, cancellationToken: ct),
                    "RoleBinding" => admin.RbacAuthorizationV1.CreateNamespacedRoleBindingAsync(KubernetesJson.Deserialize<V1RoleBinding>(json), LocalCluster.SystemNamespace, cancellationToken: ct),
                    var kind => throw new LocalClusterException($"{resource}: trellis-local does not apply a {kind}"),
                };
                await task;
            }
        }
    }

    public static async Task<string> IssueTokenAsync(IKubernetes admin, string account, CancellationToken ct)
    {
        var request = await admin.CoreV1.CreateNamespacedServiceAccountTokenAsync(
            new Authenticationv1TokenRequest { Spec = new V1TokenRequestSpec { ExpirationSeconds = TokenSeconds } },
            account, LocalCluster.SystemNamespace, cancellationToken: ct);
        return request.Status.Token;
    }

    /// <summary>A client of <paramref name="server"/> that authenticates as the ServiceAccount whose token it holds.</summary>
    public static Kubernetes ClientFor(KubeApiServer server, string token) => new(new KubernetesClientConfiguration
    {
        Host = server.BaseAddress.ToString(),
        AccessToken = token,
        SslCaCerts = [server.CertificateAuthority],
    });
}
