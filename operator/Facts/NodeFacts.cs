using System.Net;
using k8s.Models;

namespace Trellis.Operator.Facts;

/// <summary>What the operator reads of a Node: its labels, its age, its addresses, and whether spec.podCIDRs is set.</summary>
public sealed record NodeFacts(
    V1Node Node,
    string Name,
    IDictionary<string, string> Labels,
    DateTime? Created,
    IReadOnlyList<IPAddress> InternalAddresses,
    IReadOnlyList<IPAddress> Addresses,
    bool HasPodCidrs)
{
    public const string InternalIP = "InternalIP";

    public static NodeFacts Parse(V1Node node)
    {
        var internalAddresses = new List<IPAddress>();
        var addresses = new List<IPAddress>();
        foreach (var address in node.Status?.Addresses ?? [])
        {
            if (!IPAddress.TryParse(address.Address, out var ip)) continue;
            if (!addresses.Contains(ip)) addresses.Add(ip);
            if (address.Type == InternalIP && !internalAddresses.Contains(ip)) internalAddresses.Add(ip);
        }
        return new NodeFacts(node, node.Metadata.Name, node.Metadata.Labels ?? new Dictionary<string, string>(), node.Metadata.CreationTimestamp,
            internalAddresses, addresses, !string.IsNullOrEmpty(node.Spec?.PodCIDR) || node.Spec?.PodCIDRs is { Count: > 0 });
    }
}
