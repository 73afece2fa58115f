using k8s;
using k8s.Models;

namespace Trellis.ControllerRuntime.Informers;

/// <summary>
/// The cache and work-queue key of an object: <c>namespace/name</c>, or just <c>name</c> for a
/// cluster-scoped object (client-go's MetaNamespaceKeyFunc).
/// </summary>
public readonly record struct ObjectKey(string? Namespace, string Name)
{
    public static ObjectKey Of(IKubernetesObject<V1ObjectMeta> obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        var name = obj.Metadata?.Name;
        if (string.IsNullOrEmpty(name))
            throw new ArgumentException($"{obj.Kind ?? obj.GetType().Name} object has no metadata.name, so it has no key", nameof(obj));
        var ns = obj.Metadata!.NamespaceProperty;
        return new ObjectKey(string.IsNullOrEmpty(ns) ? null : ns, name);
    }

    /// <summary>Parses <c>name</c> or <c>namespace/name</c>.</summary>
    public static ObjectKey Parse(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var parts = key.Split('/');
        return parts switch
        {
            [var name] when name.Length > 0 => new ObjectKey(null, name),
            [var ns, var name] when ns.Length > 0 && name.Length > 0 => new ObjectKey(ns, name),
            _ => throw new FormatException($"object key \"{key}\" is neither \"name\" nor \"namespace/name\""),
        };
    }

    public static string KeyOf(IKubernetesObject<V1ObjectMeta> obj) => Of(obj).ToString();

    public override string ToString() => Namespace is null ? Name : $"{Namespace}/{Name}";
}
