using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Trellis.Addressing;
using Trellis.Local.Namespaces;
using Trellis.Netlink;

namespace Trellis.Local.Tests;

/// <summary>A node of a running local cluster as `status --json` reports it.</summary>
public sealed record ReportedNode(string Name, string Namespace, IReadOnlyList<IPAddress> Addresses, IReadOnlyList<Cidr> Blocks)
{
    public static IReadOnlyList<ReportedNode> From(JsonObject status) =>
        status["nodes"]!.AsArray().Select(n => new ReportedNode(
            n!["name"]!.GetValue<string>(),
            n["namespace"]!.GetValue<string>(),
            n["addresses"]!.AsArray().Select(a => IPAddress.Parse(a!.GetValue<string>())).ToList(),
            n["blocks"]!.AsArray().Select(b => Cidr.Parse(b!.GetValue<string>())).ToList())).ToList();

    public IPAddress AddressOf(AddressFamily family) =>
        Addresses.FirstOrDefault(a => a.AddressFamily == family) ?? throw new InvalidOperationException($"{Name} has no {family} address");
}

/// <summary>The kernel routes of a local cluster's namespaces, read through netlink.</summary>
public static class ClusterRoutes
{
    /// <summary>Every route of the main table, IPv4 and IPv6, in the named namespace.</summary>
    public static IReadOnlyList<Route> In(string namespaceName)
    {
        using var handle = NetlinkHandle.OpenNamespace(NamedNetworkNamespace.PathOf(namespaceName));
        return [.. handle.ListRoutes(AddressFamily.InterNetwork), .. handle.ListRoutes(AddressFamily.InterNetworkV6)];
    }

    /// <summary>The routes in <paramref name="node"/>'s namespace to any part of another node's block.</summary>
    public static IReadOnlyList<string> ToPeerBlocks(ReportedNode node, IReadOnlyList<ReportedNode> nodes)
    {
        var peerBlocks = nodes.Where(n => n.Name != node.Name).SelectMany(n => n.Blocks).ToList();
        return In(node.Namespace)
            .Where(r => r.Destination.PrefixLength > 0 && peerBlocks.Any(b => b.Overlaps(r.Destination)))
            .Select(r => $"{node.Name}: {r.Describe()}").ToList();
    }

    /// <summary>The addresses the named namespace holds.</summary>
    public static IReadOnlySet<IPAddress> AddressesIn(string namespaceName)
    {
        using var handle = NetlinkHandle.OpenNamespace(NamedNetworkNamespace.PathOf(namespaceName));
        return handle.ListAddresses().Select(a => a.Prefix.Address).ToHashSet();
    }

    /// <summary>True when <paramref name="namespaceName"/>'s kernel routes <paramref name="block"/> via <paramref name="gateway"/>.</summary>
    public static bool Holds(string namespaceName, Cidr block, IPAddress gateway) =>
        In(namespaceName).Any(r => r.Destination == block && gateway.Equals(r.Gateway));
}
