using k8s;
using k8s.Models;

namespace Trellis.ControllerRuntime.Clients;

/// <summary>Ready-made <see cref="ResourceClient{T,TList}"/>s for core types and for custom resources.</summary>
public static class ResourceClients
{
    public static ResourceClient<V1Node, V1NodeList> Nodes(IKubernetes client, string? labelSelector = null, TimeSpan? watchTimeout = null) =>
        new("nodes", (request, ct) => client.CoreV1.ListNodeWithHttpMessagesAsync(
                allowWatchBookmarks: request.AllowWatchBookmarks,
                fieldSelector: request.FieldSelector,
                labelSelector: request.LabelSelector,
                limit: request.Limit,
                continueParameter: request.Continue,
                resourceVersion: request.ResourceVersion,
                timeoutSeconds: request.TimeoutSeconds,
                watch: request.Watch,
                cancellationToken: ct),
            labelSelector, watchTimeout);

    /// <summary>
    /// Pods in every namespace; a kubelet narrows them to its node with the field selector
    /// <c>spec.nodeName=NODE</c>, a scheduler to the unbound ones with <c>spec.nodeName=</c>.
    /// </summary>
    public static ResourceClient<V1Pod, V1PodList> Pods(IKubernetes client, string? fieldSelector = null, string? labelSelector = null, TimeSpan? watchTimeout = null) =>
        new("pods", (request, ct) => client.CoreV1.ListPodForAllNamespacesWithHttpMessagesAsync(
                allowWatchBookmarks: request.AllowWatchBookmarks,
                fieldSelector: request.FieldSelector,
                labelSelector: request.LabelSelector,
                limit: request.Limit,
                continueParameter: request.Continue,
                resourceVersion: request.ResourceVersion,
                timeoutSeconds: request.TimeoutSeconds,
                watch: request.Watch,
                cancellationToken: ct),
            labelSelector, watchTimeout, fieldSelector);

    public static ResourceClient<V1Namespace, V1NamespaceList> Namespaces(IKubernetes client, string? labelSelector = null, TimeSpan? watchTimeout = null) =>
        new("namespaces", (request, ct) => client.CoreV1.ListNamespaceWithHttpMessagesAsync(
                allowWatchBookmarks: request.AllowWatchBookmarks,
                fieldSelector: request.FieldSelector,
                labelSelector: request.LabelSelector,
                limit: request.Limit,
                continueParameter: request.Continue,
                resourceVersion: request.ResourceVersion,
                timeoutSeconds: request.TimeoutSeconds,
                watch: request.Watch,
                cancellationToken: ct),
            labelSelector, watchTimeout);

    /// <summary>NetworkPolicies (networking.k8s.io/v1) in every namespace.</summary>
    public static ResourceClient<V1NetworkPolicy, V1NetworkPolicyList> NetworkPolicies(IKubernetes client, string? labelSelector = null, TimeSpan? watchTimeout = null) =>
        new("networkpolicies", (request, ct) => client.NetworkingV1.ListNetworkPolicyForAllNamespacesWithHttpMessagesAsync(
                allowWatchBookmarks: request.AllowWatchBookmarks,
                fieldSelector: request.FieldSelector,
                labelSelector: request.LabelSelector,
                limit: request.Limit,
                continueParameter: request.Continue,
                resourceVersion: request.ResourceVersion,
                timeoutSeconds: request.TimeoutSeconds,
                watch: request.Watch,
                cancellationToken: ct),
            labelSelector, watchTimeout);

    /// <summary>A cluster-scoped custom resource, addressed as <c>/apis/{group}/{version}/{plural}</c>.</summary>
    public static ResourceClient<T, KubernetesList<T>> ClusterCustom<T>(
        IKubernetes client, string group, string version, string plural, string? labelSelector = null, TimeSpan? watchTimeout = null)
        where T : IKubernetesObject<V1ObjectMeta> =>
        new($"{plural}.{group}/{version}", (request, ct) => client.CustomObjects.ListClusterCustomObjectWithHttpMessagesAsync<KubernetesList<T>>(
                group, version, plural,
                allowWatchBookmarks: request.AllowWatchBookmarks,
                labelSelector: request.LabelSelector,
                limit: request.Limit,
                continueParameter: request.Continue,
                resourceVersion: request.ResourceVersion,
                timeoutSeconds: request.TimeoutSeconds,
                watch: request.Watch,
                cancellationToken: ct),
            labelSelector, watchTimeout);

    /// <summary>A cluster-scoped custom resource described by its <see cref="KubernetesEntityAttribute"/>.</summary>
    public static ResourceClient<T, KubernetesList<T>> ClusterCustom<T>(IKubernetes client, string? labelSelector = null, TimeSpan? watchTimeout = null)
        where T : IKubernetesObject<V1ObjectMeta>
    {
        var entity = CustomResourceClient<T>.EntityOf(typeof(T));
        return ClusterCustom<T>(client, entity.Group, entity.ApiVersion, entity.PluralName, labelSelector, watchTimeout);
    }
}
