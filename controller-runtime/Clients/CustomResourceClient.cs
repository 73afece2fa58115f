using k8s;
using k8s.Models;

namespace Trellis.ControllerRuntime.Clients;

/// <summary>
/// Reads and writes one cluster-scoped custom resource type, addressed by the group, version and plural its
/// <see cref="KubernetesEntityAttribute"/> names, so no call site repeats them.
/// </summary>
public sealed class CustomResourceClient<T>(ApiClient client) where T : IKubernetesObject<V1ObjectMeta>
{
    public static KubernetesEntityAttribute Entity { get; } = EntityOf(typeof(T));

    /// <summary>The collection's path on the API server, <c>/apis/{group}/{version}/{plural}</c>.</summary>
    public static string CollectionPath => $"/apis/{Entity.Group}/{Entity.ApiVersion}/{Entity.PluralName}";

    public Task<T> GetAsync(string name, CancellationToken cancellationToken = default) =>
        ApiHttp.ReadAsync<T>(client, PathOf(name), cancellationToken);

    public async Task<IReadOnlyList<T>> ListAsync(string? labelSelector = null, CancellationToken cancellationToken = default)
    {
        using var response = await ApiHttp.GetAsync(client, CollectionPath, [("labelSelector", labelSelector)], cancellationToken).ConfigureAwait(false);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        return (await ApiJson.DeserializeAsync<KubernetesList<T>>(body, cancellationToken).ConfigureAwait(false)).Items?.ToList() ?? [];
    }

    public Task<T> CreateAsync(T obj, CancellationToken cancellationToken = default) =>
        ApiHttp.CreateAsync(client, CollectionPath, obj, cancellationToken);

    public Task<T> ReplaceAsync(T obj, CancellationToken cancellationToken = default) =>
        ApiHttp.ReplaceAsync(client, PathOf(obj.Metadata.Name), obj, cancellationToken);

    public Task<T> ReplaceStatusAsync(T obj, CancellationToken cancellationToken = default) =>
        ApiHttp.ReplaceAsync(client, PathOf(obj.Metadata.Name) + "/status", obj, cancellationToken);

    public Task<T> PatchAsync(V1Patch patch, string name, CancellationToken cancellationToken = default) =>
        ApiHttp.PatchAsync<T>(client, PathOf(name), patch, cancellationToken);

    public Task<T> PatchStatusAsync(V1Patch patch, string name, CancellationToken cancellationToken = default) =>
        ApiHttp.PatchAsync<T>(client, PathOf(name) + "/status", patch, cancellationToken);

    public Task DeleteAsync(string name, V1DeleteOptions? options = null, CancellationToken cancellationToken = default) =>
        ApiHttp.DeleteAsync(client, PathOf(name), options, cancellationToken);

    private static string PathOf(string name) => $"{CollectionPath}/{ApiHttp.Segment(name)}";

    internal static KubernetesEntityAttribute EntityOf(Type type) =>
        type.GetCustomAttributes(typeof(KubernetesEntityAttribute), false).OfType<KubernetesEntityAttribute>().FirstOrDefault()
        ?? throw new ArgumentException($"{type.FullName} has no [KubernetesEntity] attribute naming its group, version and plural");
}
