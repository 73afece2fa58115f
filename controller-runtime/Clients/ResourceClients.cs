using k8s;
using k8s.Models;

namespace Trellis.ControllerRuntime.Clients;

/// <summary>Ready-made <see cref="ResourceClient{T,TList}"/>s for core types and for custom resources.</summary>
public static class ResourceClients
{
    public static ResourceClient<V1Node, V1NodeList> Nodes(ApiClient client, string? labelSelector = null, TimeSpan? watchTimeout = null) =>
        new(client, "/api/v1/nodes", "nodes", labelSelector, watchTimeout);

    /// <summary>
    /// Pods in every namespace; a kubelet narrows them to its node with the field selector
    /// <c>spec.nodeName=NODE</c>, a scheduler to the unbound ones with <c>spec.nodeName=</c>.
    /// </summary>
    public static ResourceClient<V1Pod, V1PodList> Pods(ApiClient client, string? fieldSelector = null, string? labelSelector = null, TimeSpan? watchTimeout = null) =>
        new(client, "/api/v1/pods", "pods", labelSelector, watchTimeout, fieldSelector);

    public static ResourceClient<V1Namespace, V1NamespaceList> Namespaces(ApiClient client, string? labelSelector = null, TimeSpan? watchTimeout = null) =>
        new(client, "/api/v1/namespaces", "namespaces", labelSelector, watchTimeout);

    /// <summary>NetworkPolicies (networking.k8s.io/v1) in every namespace.</summary>
    public static ResourceClient<V1NetworkPolicy, V1NetworkPolicyList> NetworkPolicies(ApiClient client, string? labelSelector = null, TimeSpan? watchTimeout = null) =>
        new(client, "/apis/networking.k8s.io/v1/networkpolicies", "networkpolicies", labelSelector, watchTimeout);

    /// <summary>A cluster-scoped custom resource, addressed as <c>/apis/{group}/{version}/{plural}</c>.</summary>
    public static ResourceClient<T, KubernetesList<T>> ClusterCustom<T>(
        ApiClient client, string group, string version, string plural, string? labelSelector = null, TimeSpan? watchTimeout = null)
        where T : IKubernetesObject<V1ObjectMeta> =>
        new(client, $"/apis/{group}/{version}/{plural}", $"{plural}.{group}/{version}", labelSelector, watchTimeout);

    /// <summary>A cluster-scoped custom resource described by its <see cref="KubernetesEntityAttribute"/>.</summary>
    public static ResourceClient<T, KubernetesList<T>> ClusterCustom<T>(ApiClient client, string? labelSelector = null, TimeSpan? watchTimeout = null)
        where T : IKubernetesObject<V1ObjectMeta>
    {
        var entity = CustomResourceClient<T>.EntityOf(typeof(T));
        return ClusterCustom<T>(client, entity.Group, entity.ApiVersion, entity.PluralName, labelSelector, watchTimeout);
    }
}
