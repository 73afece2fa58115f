using System.Net;
using Trellis.NodeAgent.Planning;

namespace Trellis.NodeAgent.Reconciling;

/// <summary>A neighbour entry on the vxlan device.</summary>
public sealed record KernelNeighbor(IPAddress Address, MacAddress? Mac, bool Permanent, byte Protocol)
{
    /// <summary>Only entries carrying Trellis's protocol are Trellis's; a permanent entry without it was added by someone else.</summary>
    public bool IsTrellis => Protocol == TrellisProtocol.Number;
}
