using Trellis.Addressing;

namespace Trellis.NodeAgent.Planning;

/// <summary>What the agent knows about its node's link to the other nodes, read from the kernel.</summary>
public sealed record UnderlayFacts(int LinkIndex, string LinkName, int Mtu, IpPrefix Address, IReadOnlyList<IpPrefix> OtherAddresses)
{
    /// <summary>The underlay address of <paramref name="family"/>, when the interface holds one.</summary>
    public IpPrefix? AddressOf(System.Net.Sockets.AddressFamily family) =>
        Address.Address.AddressFamily == family ? Address : OtherAddresses.Cast<IpPrefix?>().FirstOrDefault(a => a!.Value.Address.AddressFamily == family);
}
