using System.Net;

namespace Trellis.NodeAgent.Planning;

/// <summary>The agent's own names and places, fixed at start-up.</summary>
/// <param name="ApiServerAddresses">Where the agent reaches the API server: no block may hold these, so Trellis never shadows the route to it.</param>
public sealed record AgentSettings(string BridgeName, string IpamDataDirectory, IReadOnlyList<IPAddress>? ApiServerAddresses = null)
{
    public const string VxlanDeviceName = "trellis.vxlan";

    public IReadOnlyList<IPAddress> ApiServer => ApiServerAddresses ?? [];

    /// <summary>Devices Trellis itself owns: their addresses are the blocks' gateways, not the node's.</summary>
    public bool IsOwnDevice(string link) => link == BridgeName || link == VxlanDeviceName;
}
