using k8s;
using k8s.Models;

namespace Trellis.ControllerRuntime.Events;

public static class ObjectReferences
{
    /// <summary>
    /// A reference to any object. Objects built in code often lack apiVersion/kind, so those come from the
    /// type's <see cref="KubernetesEntityAttribute"/> when the object does not carry them.
    /// </summary>
    public static V1ObjectReference Of(IKubernetesObject<V1ObjectMeta> obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        var entity = obj.GetType().GetCustomAttributes(typeof(KubernetesEntityAttribute), true).OfType<KubernetesEntityAttribute>().FirstOrDefault();
        var apiVersion = obj.ApiVersion;
        if (string.IsNullOrEmpty(apiVersion) && entity is not null)
            apiVersion = string.IsNullOrEmpty(entity.Group) ? entity.ApiVersion : $"{entity.Group}/{entity.ApiVersion}";
        var kind = string.IsNullOrEmpty(obj.Kind) ? entity?.Kind : obj.Kind;
        if (string.IsNullOrEmpty(kind) || string.IsNullOrEmpty(apiVersion))
            throw new ArgumentException($"{obj.GetType().Name} {obj.Metadata?.Name} carries no apiVersion/kind and its type has no [KubernetesEntity]; cannot reference it");
        return new V1ObjectReference
        {
            ApiVersion = apiVersion,
            Kind = kind,
            Name = obj.Metadata?.Name,
            NamespaceProperty = obj.Metadata?.NamespaceProperty,
            Uid = obj.Metadata?.Uid,
            ResourceVersion = obj.Metadata?.ResourceVersion,
        };
    }
}
