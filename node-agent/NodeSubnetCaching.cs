using Trellis.Crds;

namespace Trellis.NodeAgent;

/// <summary>
/// What the agent caches of a NodeSubnet, one per node of the cluster: of a peer its metadata and spec (its node, address
/// and blocks), and of its own the status too, which the agent's status writes build on. Server-side apply's bookkeeping
/// (managedFields), annotations (where a client-side kubectl apply keeps the whole object again) and peers' statuses
/// (each written by its own node's agent) are read by no pass.
/// </summary>
public static class NodeSubnetCaching
{
    /// <summary>Strips <paramref name="subnet"/> in place to what a pass reads, as an informer transform.</summary>
    public static NodeSubnet KeepWhatPassesRead(NodeSubnet subnet, string nodeName)
    {
        if (subnet.Metadata is { } metadata)
        {
            metadata.ManagedFields = null;
            metadata.Annotations = null;
        }
        if (subnet.Spec?.NodeName != nodeName) subnet.Status = null;
        return subnet;
    }
}
