using System.Diagnostics.CodeAnalysis;
using System.Net;
using Trellis.Addressing;

namespace Trellis.NodeAgent.Planning;

/// <summary>An address the kernel holds, with the interface that holds it.</summary>
public sealed record InterfaceAddress(int LinkIndex, IpPrefix Address);

/// <summary>Finds the underlay interface: the one holding the node's first node address that any interface holds.</summary>
public static class UnderlayLocator
{
    public static bool TryLocate(string nodeName, IReadOnlyList<IPAddress> nodeAddresses, IReadOnlyList<InterfaceAddress> kernelAddresses,
        [NotNullWhen(true)] out InterfaceAddress? primary, [NotNullWhen(false)] out string? error)
    {
        foreach (var address in nodeAddresses)
        {
            primary = kernelAddresses.FirstOrDefault(k => k.Address.Address.Equals(address));
            if (primary is not null)
            {
                error = null;
                return true;
            }
        }
        primary = null;
        error = nodeAddresses.Count == 0
            ? $"node {nodeName}: its NodeSubnet lists no nodeAddresses, so the underlay interface cannot be found"
            : $"node {nodeName}: no interface holds any of its node addresses ({string.Join(", ", nodeAddresses)})";
        return false;
    }

    /// <summary>The other addresses on the underlay interface, global ones only (link-local addresses cannot route blocks).</summary>
    public static IReadOnlyList<IpPrefix> SiblingsOf(InterfaceAddress primary, IReadOnlyList<InterfaceAddress> kernelAddresses) =>
        kernelAddresses.Where(k => k.LinkIndex == primary.LinkIndex && !k.Address.Equals(primary.Address) && !k.Address.Address.IsIPv6LinkLocal)
            .Select(k => k.Address).ToList();
}
