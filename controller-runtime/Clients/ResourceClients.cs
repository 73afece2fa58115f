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
                resourceVersion: request.ResourceVersion,
                timeoutSeconds: request.TimeoutSeconds,
                watch: request.Watch,
                cancellationToken: ct),
            labelSelector, watchTimeout);

    /// <summary>
    /// Pods in every namespace, or in <paramref name="namespace"/>; a kubelet narrows them to its node
    /// with the field selector <c>spec.nodeName=NODE</c>, a scheduler to the unbound ones with <c>spec.nodeName=</c>.
    /// </summary>
    public static ResourceClient<V1Pod, V1PodList> Pods(IKubernetes client, string? fieldSelector = null, string? labelSelector = null,
        string? @namespace = null, TimeSpan? watchTimeout = null) =>
        new(@namespace is null ? "pods" : $"pods in {@namespace}", (request, ct) => @namespace is null
                ? client.CoreV1.ListPodForAllNamespacesWithHttpMessagesAsync(
                    allowWatchBookmarks: request.AllowWatchBookmarks,
                    fieldSelector: request.FieldSelector,
                    labelSelector: request.LabelSelector,
                    resourceVersion: request.ResourceVersion,
                    timeoutSeconds: request.TimeoutSeconds,
                    watch: request.Watch,
                    cancellationToken: ct)
                : client.CoreV1.ListNamespacedPodWithHttpMessagesAsync(
                    @namespace,
                    allowWatchBookmarks: request.AllowWatchBookmarks,
                    fieldSelector: request.FieldSelector,
                    labelSelector: request.LabelSelector,
                    resourceVersion: request.ResourceVersion,
                    timeoutSeconds: request.TimeoutSeconds,
                    watch: request.Watch,
                    cancellationToken: ct),
            labelSelector, watchTimeout, fieldSelector);

    /// <summary>A cluster-scoped custom resource, addressed as <c>/apis/{group}/{version}/{plural}</c>.</summary>
    public static ResourceClient<T, KubernetesList<T>> ClusterCustom<T>(
        IKubernetes client, string group, string version, string plural, string? labelSelector = null, TimeSpan? watchTimeout = null)
        where T : IKubernetesObject<V1ObjectMeta> =>
        new($"{plural}.{group}/{version}", (request, ct) => client.CustomObjects.ListClusterCustomObjectWithHttpMessagesAsync<KubernetesList<T>>(
                group, version, plural,
                allowWatchBookmarks: request.AllowWatchBookmarks,
                labelSelector: request.LabelSelector,
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
