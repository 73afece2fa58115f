using System.Text;
using Trellis.Addressing;

namespace Trellis.NodeAgent.Planning;

/// <summary>
/// The nftables script for outbound masquerade. Every script first creates and deletes the
/// table, so that one `nft -f -` transaction replaces whatever is there (or removes it) atomically,
/// whether or not the table existed.
/// </summary>
public static class MasqueradeRuleset
{
    public const string Family = "inet";
    public const string Table = "trellis";

    public static string Render(MasqueradePlan? plan)
    {
        var text = new StringBuilder();
        text.Append($"add table {Family} {Table}\n");
        text.Append($"delete table {Family} {Table}\n");
        if (plan is null) return text.ToString();

        text.Append($"table {Family} {Table} {{\n");
        foreach (var (family, ip, type) in new[] { (System.Net.Sockets.AddressFamily.InterNetwork, "ip", "ipv4_addr"), (System.Net.Sockets.AddressFamily.InterNetworkV6, "ip6", "ipv6_addr") })
        {
            var ranges = plan.PodRanges.Where(c => c.Family == family).ToList();
            if (plan.Sources.All(c => c.Family != family)) continue;
            text.Append($"\tset pod_ranges_{ip} {{\n\t\ttype {type}\n\t\tflags interval\n\t\telements = {{ {Join(ranges)} }}\n\t}}\n");
        }
        text.Append("\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n");
        foreach (var (family, ip) in new[] { (System.Net.Sockets.AddressFamily.InterNetwork, "ip"), (System.Net.Sockets.AddressFamily.InterNetworkV6, "ip6") })
        {
            var sources = plan.Sources.Where(c => c.Family == family).ToList();
            if (sources.Count == 0) continue;
            text.Append($"\t\t{ip} saddr {{ {Join(sources)} }} {ip} daddr != @pod_ranges_{ip} counter masquerade\n");
        }
        text.Append("\t}\n}\n");
        return text.ToString();
    }

    private static string Join(IEnumerable<Cidr> cidrs) => string.Join(", ", cidrs.Select(c => c.ToString()));
}
