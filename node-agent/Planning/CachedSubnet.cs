using k8s.Models;
using Trellis.Crds;

namespace Trellis.NodeAgent.Planning;

/// <summary>
/// What the agent keeps of one NodeSubnet, one per node of the cluster: its spec parsed once, as it arrives, into the facts
/// every pass plans from (or the fault that kept it from parsing). Of a peer nothing else stays, so a cache of thousands
/// holds typed blocks and addresses rather than API objects. Of its own NodeSubnet the agent also keeps the object, stripped
/// of its annotations (where a client-side kubectl apply keeps the whole object again; managedFields never arrive, see
/// ApiJson): its status is what the agent's status writes build on. Made by <see cref="Of"/>.
/// </summary>
/// <param name="Uid">metadata.uid, which an Event about the NodeSubnet names (kubectl describe finds its events by it).</param>
/// <param name="Own">This node's (spec.nodeName names it), whether or not the rest of the spec parses.</param>
/// <param name="Deleting">Being deleted (metadata.deletionTimestamp set): no pass plans from it any more.</param>
/// <param name="Facts">The spec, checked and parsed; null when it does not parse (<paramref name="Fault"/> says why).</param>
/// <param name="Fault">Why the spec does not parse, naming the NodeSubnet and the field at fault.</param>
/// <param name="Object">Of this node's own NodeSubnet only, the object (stripped as above); null for a peer's.</param>
public sealed record CachedSubnet(string Name, string? Uid, bool Own, bool Deleting, SubnetFacts? Facts, string? Fault, NodeSubnet? Object)
{
    /// <summary>Parses <paramref name="subnet"/> as the agent of <paramref name="nodeName"/> keeps it (an informer's projection).</summary>
    public static CachedSubnet Of(NodeSubnet subnet, string nodeName)
    {
        var metadata = subnet.Metadata ?? new V1ObjectMeta();
        bool own = subnet.Spec?.NodeName == nodeName;
        SubnetFacts.TryParse(subnet, out var facts, out var fault);
        if (own) metadata.Annotations = null;
        return new CachedSubnet(metadata.Name ?? "(unnamed)", metadata.Uid, own, metadata.DeletionTimestamp is not null,
            facts, fault, own ? subnet : null);
    }

    /// <summary>
    /// Whether a pass could plan differently from <paramref name="other"/> than from this: its facts, its fault or its deletion
    /// changed. A status write (the agent's own, coming back through the watch) or a label changes none of them.
    /// </summary>
    public bool PlansLike(CachedSubnet other) =>
        Own == other.Own && Deleting == other.Deleting && Fault == other.Fault
        && (Facts is null ? other.Facts is null : other.Facts is not null && Facts.SameAs(other.Facts));

    /// <summary>The NodeSubnet an Event about this one names: the object itself if kept, else its identity.</summary>
    public NodeSubnet EventSubject() => Object ?? new NodeSubnet
    {
        Metadata = new V1ObjectMeta { Name = Name, Uid = Uid },
    };
}
