using System.Collections.Concurrent;
using k8s.Models;
using Trellis.ControllerRuntime.Informers;
using Trellis.Crds;

namespace Trellis.Operator.Controllers;

/// <summary>
/// The operator's picture of the cluster: the three informer caches, plus the NodeSubnets it has
/// itself just written or deleted and whose watch events have not arrived yet. Without that overlay a
/// reconcile that runs between a write and its event would write the same thing again.
/// </summary>
public sealed class ClusterView(Informer<V1Node> nodes, Informer<PodNetwork> networks, Informer<NodeSubnet> subnets)
{
    private readonly ConcurrentDictionary<string, NodeSubnet> _written = new();
    private readonly ConcurrentDictionary<string, byte> _deleted = new();

    public Informer<V1Node> Nodes { get; } = nodes;
    public Informer<PodNetwork> Networks { get; } = networks;
    public Informer<NodeSubnet> Subnets { get; } = subnets;

    public static string? NetworkOf(NodeSubnet subnet) =>
        subnet.Metadata.Labels?.TryGetValue(TrellisApi.PodNetworkLabel, out var label) == true ? label
        : string.IsNullOrEmpty(subnet.Spec.PodNetwork) ? null : subnet.Spec.PodNetwork;

    /// <summary>The network's NodeSubnets by name, as last written by us or else as last seen by the informer.</summary>
    public Dictionary<string, NodeSubnet> SubnetsOf(string network)
    {
        var result = new Dictionary<string, NodeSubnet>(StringComparer.Ordinal);
        foreach (var subnet in Subnets.List())
            if (NetworkOf(subnet) == network && !_deleted.ContainsKey(subnet.Metadata.Name))
                result[subnet.Metadata.Name] = subnet;
        foreach (var (name, subnet) in _written)
            if (NetworkOf(subnet) == network)
                result[name] = subnet;
        return result;
    }

    public void Wrote(NodeSubnet subnet)
    {
        _deleted.TryRemove(subnet.Metadata.Name, out _);
        _written[subnet.Metadata.Name] = subnet;
    }

    public void Deleted(string name)
    {
        _written.TryRemove(name, out _);
        _deleted[name] = 0;
    }

    /// <summary>Called for every informer event: once the cache has caught up with a name, the overlay for it goes.</summary>
    public void Observed(NodeSubnet subnet, bool deleted)
    {
        var name = subnet.Metadata.Name;
        if (deleted) _deleted.TryRemove(name, out _);
        _written.TryRemove(name, out _);
    }
}
