using System.Net;
using Trellis.Addressing;

namespace Trellis.NodeAgent.Reconciling;

/// <summary>A route as the kernel holds it, reduced to what Trellis compares.</summary>
public sealed record KernelRoute(Cidr Destination, IPAddress? Gateway, int LinkIndex, bool OnLink, byte Protocol)
{
    public bool IsTrellis => Protocol == TrellisProtocol.Number;

    public override string ToString() =>
        $"{Destination}{(Gateway is null ? "" : $" via {Gateway}")} dev #{LinkIndex}{(OnLink ? " onlink" : "")} proto {Protocol}";
}
