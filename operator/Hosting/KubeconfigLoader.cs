using k8s;
using k8s.Exceptions;

namespace Trellis.Operator.Hosting;

/// <summary>
/// Client configuration from --kubeconfig or in-cluster. KubernetesClient refuses a kubeconfig whose
/// user carries no credentials, which is exactly what the in-process API server of the local cluster
/// mode writes (it has no authentication); such a user is taken as anonymous over the context's cluster.
/// </summary>
public static class KubeconfigLoader
{
    public static KubernetesClientConfiguration Load(string? kubeconfig)
    {
        if (string.IsNullOrEmpty(kubeconfig)) return KubernetesClientConfiguration.InClusterConfig();
        try
        {
            return KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig);
        }
        catch (KubeConfigException error) when (error.Message.Contains("auth credentials", StringComparison.Ordinal))
        {
            var file = KubernetesClientConfiguration.LoadKubeConfig(kubeconfig);
            var context = file.Contexts?.FirstOrDefault(c => c.Name == file.CurrentContext)
                ?? throw new InvalidOperationException($"kubeconfig {kubeconfig}: current context \"{file.CurrentContext}\" is not defined", error);
            var cluster = file.Clusters?.FirstOrDefault(c => c.Name == context.ContextDetails?.Cluster)
                ?? throw new InvalidOperationException($"kubeconfig {kubeconfig}: cluster \"{context.ContextDetails?.Cluster}\" of context \"{context.Name}\" is not defined", error);
            return new KubernetesClientConfiguration
            {
                Host = cluster.ClusterEndpoint?.Server
                    ?? throw new InvalidOperationException($"kubeconfig {kubeconfig}: cluster \"{cluster.Name}\" has no server", error),
                SkipTlsVerify = cluster.ClusterEndpoint.SkipTlsVerify,
                Namespace = context.ContextDetails?.Namespace,
            };
        }
    }
}
