using k8s;
using k8s.Models;

namespace Trellis.ControllerRuntime.Informers;

/// <summary>Ready-made <see cref="InformerOptions.Transform"/>s.</summary>
public static class InformerTransforms
{
    /// <summary>
    /// Drops metadata.managedFields (server-side apply's bookkeeping: often the largest part of a small object, and read by
    /// nobody who only reconciles), as controller-runtime's TransformStripManagedFields does.
    /// </summary>
    public static IKubernetesObject<V1ObjectMeta> StripManagedFields(IKubernetesObject<V1ObjectMeta> item)
    {
        if (item.Metadata is { } metadata) metadata.ManagedFields = null;
        return item;
    }
}
