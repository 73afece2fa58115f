using System.Globalization;
using System.Text.Json.Nodes;

namespace Trellis.ApiServer.Storage;

public sealed partial class ObjectStore
{
    /// <summary>
    /// DELETE for a type with a graceful strategy (<see cref="GracefulDeletion"/>): the first delete
    /// marks the object (a MODIFIED event) and leaves it in place for the grace period; a delete with
    /// period 0, or of an object marked with period 0, removes it unless finalizers hold it.
    /// </summary>
    /// <param name="gracePeriodOf">The type's strategy: the period for a first delete of this object, given the requested one.</param>
    public DeleteResult DeleteGracefully(ResourceType type, string? @namespace, string name, long? gracePeriodSeconds,
        Func<JsonObject, long?, long> gracePeriodOf, string? expectedUid = null, string? expectedResourceVersion = null,
        PropagationPolicy propagation = PropagationPolicy.Background)
    {
        var ns = type.Namespaced ? @namespace ?? "" : "";
        lock (_lock)
        {
            var current = Bucket(type.Key).GetValueOrDefault(BucketKey(ns, name)) ?? throw ApiError.NotFound(type, name);
            CheckDeletePreconditions(type, name, current, expectedUid, expectedResourceVersion);
            var node = current.ToNode();
            var metadata = node["metadata"]!.AsObject();
            switch (GracefulDeletion.Decide(metadata, gracePeriodSeconds, requested => gracePeriodOf(node, requested), _time.GetUtcNow()))
            {
                case GracefulDeletionStep.AlreadyPending:
                    return new DeleteResult(current, true);
                case GracefulDeletionStep.Mark mark:
                    metadata["deletionTimestamp"] = Rfc3339(mark.DeletionTimestamp);
                    metadata["deletionGracePeriodSeconds"] = mark.GracePeriodSeconds;
                    if (mark.FirstMark) metadata["generation"] = (metadata["generation"]?.GetValue<long>() ?? 0) + 1;
                    metadata["resourceVersion"] = (++_revision).ToString(CultureInfo.InvariantCulture);
                    if (mark.GracePeriodSeconds == 0 && Finalizers(metadata).Count == 0)
                        return new DeleteResult(Remove(type.Key, current, node, propagation), false);
                    var stored = StoredObject.From(node);
                    Put(type.Key, stored, current, node);
                    Publish(new StoreEvent(WatchEventType.Modified, type.Key, stored, current));
                    return new DeleteResult(stored, true);
                default:
                    return DeleteLocked(type.Key, current, propagation);
            }
        }
    }
}
