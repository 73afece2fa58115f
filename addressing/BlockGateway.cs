using System.Diagnostics.CodeAnalysis;
using System.Net;

namespace Trellis.Addressing;

/// <summary>
/// The gateway rule: a node's block has its first host as gateway, held by the node's bridge and
/// the default route of every pod on it. The operator writes it into each NodeSubnet, the agent
/// falls back to it when a NodeSubnet names none, and the plugin defaults a range's gateway to it;
/// one rule, so the three never disagree about which address the bridge holds.
/// </summary>
public static class BlockGateway
{
    /// <summary>The gateway of <paramref name="block"/>; a block of one address has none.</summary>
    public static bool TryOf(Cidr block, [NotNullWhen(true)] out IPAddress? gateway)
    {
        gateway = block.Size >= 2 ? block.FirstHost : null;
        return gateway is not null;
    }

    /// <summary>The gateway of <paramref name="block"/>, which must hold at least two addresses.</summary>
    public static IPAddress Of(Cidr block) =>
        TryOf(block, out var gateway) ? gateway : throw new ArgumentException($"{block} has no room for a gateway", nameof(block));
}
