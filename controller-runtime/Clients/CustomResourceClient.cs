using k8s;
using k8s.Models;

namespace Trellis.ControllerRuntime.Clients;

/// <summary>
/// Reads and writes one cluster-scoped custom resource type, addressed by the group, version and plural its
/// <see cref="KubernetesEntityAttribute"/> names, so no call site repeats them.
/// </summary>
public sealed class CustomResourceClient<T>(IKubernetes client) where T : IKubernetesObject<V1ObjectMeta>
{
    public static KubernetesEntityAttribute Entity { get; } = EntityOf(typeof(T));

    public Task<T> GetAsync(string name, CancellationToken cancellationToken = default) =>
        client.CustomObjects.GetClusterCustomObjectAsync<T>(Entity.Group, Entity.ApiVersion, Entity.PluralName, name, cancellationToken);

    public async Task<IReadOnlyList<T>> ListAsync(string? labelSelector = null, CancellationToken cancellationToken = default) =>
        (await client.CustomObjects.ListClusterCustomObjectAsync<KubernetesList<T>>(Entity.Group, Entity.ApiVersion, Entity.PluralName,
            labelSelector: labelSelector, cancellationToken: cancellationToken).ConfigureAwait(false)).Items?.ToList() ?? [];

    public Task<T> CreateAsync(T obj, CancellationToken cancellationToken = default) =>
        client.CustomObjects.CreateClusterCustomObjectAsync<T>(obj, Entity.Group, Entity.ApiVersion, Entity.PluralName,
            cancellationToken: cancellationToken);

    public Task<T> ReplaceAsync(T obj, CancellationToken cancellationToken = default) =>
        client.CustomObjects.ReplaceClusterCustomObjectAsync<T>(obj, Entity.Group, Entity.ApiVersion, Entity.PluralName, obj.Metadata.Name,
            cancellationToken: cancellationToken);

    public Task<T> ReplaceStatusAsync(T obj, CancellationToken cancellationToken = default) =>
        client.CustomObjects.ReplaceClusterCustomObjectStatusAsync<T>(obj, Entity.Group, Entity.ApiVersion, Entity.PluralName, obj.Metadata.Name,
            cancellationToken: cancellationToken);

    public Task<T> PatchAsync(V1Patch patch, string name, CancellationToken cancellationToken = default) =>
        client.CustomObjects.PatchClusterCustomObjectAsync<T>(patch, Entity.Group, Entity.ApiVersion, Entity.PluralName, name,
            cancellationToken: cancellationToken);

    public Task<T> PatchStatusAsync(V1Patch patch, string name, CancellationToken cancellationToken = default) =>
        client.CustomObjects.PatchClusterCustomObjectStatusAsync<T>(patch, Entity.Group, Entity.ApiVersion, Entity.PluralName, name,
            cancellationToken: cancellationToken);

    public Task DeleteAsync(string name, V1DeleteOptions? options = null, CancellationToken cancellationToken = default) =>
        client.CustomObjects.DeleteClusterCustomObjectAsync(Entity.Group, Entity.ApiVersion, Entity.PluralName, name, options,
            cancellationToken: cancellationToken);

    internal static KubernetesEntityAttribute EntityOf(Type type) =>
        type.GetCustomAttributes(typeof(KubernetesEntityAttribute), false).OfType<KubernetesEntityAttribute>().FirstOrDefault()
        ?? throw new ArgumentException($"{type.FullName} has no [KubernetesEntity] attribute naming its group, version and plural");
}
