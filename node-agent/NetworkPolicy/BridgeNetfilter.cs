using Trellis.Netlink;

namespace Trellis.NodeAgent.NetworkPolicy;

/// <summary>
/// Pods on one node talk through the bridge, which forwards at layer 2 past every inet hook unless
/// br_netfilter hands bridged IP packets to them. These two switches (per network namespace)
/// make same-node traffic meet the policy table, with conntrack, exactly as routed traffic does.
/// </summary>
public static class BridgeNetfilter
{
    public static readonly IReadOnlyList<string> Switches = ["net/bridge/bridge-nf-call-iptables", "net/bridge/bridge-nf-call-ip6tables"];

    /// <summary>Sets both switches; null when they are on, otherwise what is wrong (br_netfilter not loaded, say).</summary>
    public static string? Ensure()
    {
        foreach (var key in Switches)
        {
            if (!File.Exists($"/proc/sys/{key}"))
                return $"/proc/sys/{key} does not exist: the br_netfilter module is not loaded (modprobe br_netfilter on the node), so traffic between pods of this node is not filtered";
            try
            {
                if (Sysctl.Read(key) != "1") Sysctl.Write(key, "1");
            }
            catch (IOException e)
            {
                return $"{e.Message}; traffic between pods of this node is not filtered";
            }
        }
        return null;
    }
}
