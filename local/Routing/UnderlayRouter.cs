using System.Diagnostics;
using System.Text;
using k8s.Models;
using Trellis.Addressing;
using Trellis.Crds;
using Trellis.Local.Cluster;
using Trellis.Local.Namespaces;
using Trellis.Local.Topology;

namespace Trellis.Local.Routing;

/// <summary>
/// With <c>--routing BGP</c> the underlay namespace, every node's default gateway, runs a real
/// routing daemon from Debian (FRR's bgpd + zebra, or BIRD 2): it accepts every node of the
/// underlay as a neighbour (dynamic neighbours, so nodes added later need no new config), takes
/// the pod ranges and nothing else from them, sends them nothing, and installs what it learns
/// into its kernel. Its files and sockets live in the cluster's state directory.
/// </summary>
public static class UnderlayRouter
{
    public const string Frr = "frr";
    public const string Bird = "bird";
    public const long RouterAsn = 65000;
    public static readonly IReadOnlyList<string> Kinds = [Frr, Bird];
    private static readonly Cidr Underlay = Cidr.Parse("192.168.0.0/16");

    /// <summary>The daemon binaries each kind needs, for an early, clear refusal.</summary>
    public static IReadOnlyList<string> Binaries(string kind) => kind == Frr
        ? ["/usr/lib/frr/zebra", "/usr/lib/frr/bgpd", "/usr/bin/vtysh"]
        : ["/usr/sbin/bird", "/usr/sbin/birdc"];

    /// <summary>routing.bgp for the cluster: each node peers with its own segment's gateway (selected by the segment label), hold time 9 s.</summary>
    public static BgpSpec BgpFor(TopologyPlan plan) => new()
    {
        Asn = BgpSpec.DefaultAsn,
        HoldTime = 9,
        Peers = plan.Segments.Select(segment => new BgpPeerSpec
        {
            Address = segment.Gateway.ToString(),
            Asn = RouterAsn,
            NodeSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { [NodeObjects.SegmentLabel] = segment.BridgeName } },
        }).ToList(),
    };

    /// <summary>Writes the daemon's configuration for <paramref name="podRanges"/> and starts it in the underlay namespace; returns its processes.</summary>
    public static IReadOnlyList<int> Start(string kind, TopologyPlan plan, IReadOnlyList<Cidr> podRanges, string directory)
    {
        Directory.CreateDirectory(directory);
        if (kind == Frr)
        {
            File.WriteAllText(Path.Combine(directory, "bgpd.conf"), FrrConfiguration(plan, podRanges, directory));
            File.WriteAllText(Path.Combine(directory, "zebra.conf"), "");
            // FRR drops to its own user: it must own its directory.
            Run("chown", "-R", "frr:frr", directory);
            string[] common = ["-u", "frr", "-g", "frr", "-z", Path.Combine(directory, "zserv.api"), "--vty_socket", directory, "-P", "0"];
            var zebra = InNamespace.StartDetached(plan.UnderlayNamespace, "/usr/lib/frr/zebra",
                [.. common, "-i", Path.Combine(directory, "zebra.pid"), "-f", Path.Combine(directory, "zebra.conf")], Path.Combine(directory, "zebra.log"));
            WaitFor(() => File.Exists(Path.Combine(directory, "zserv.api")), "zebra's socket", Path.Combine(directory, "zebra.log"));
            var bgpd = InNamespace.StartDetached(plan.UnderlayNamespace, "/usr/lib/frr/bgpd",
                [.. common, "-i", Path.Combine(directory, "bgpd.pid"), "-f", Path.Combine(directory, "bgpd.conf")], Path.Combine(directory, "bgpd.log"));
            WaitFor(() => File.Exists(Path.Combine(directory, "bgpd.vty")), "bgpd's control socket", Path.Combine(directory, "bgpd.log"));
            return [zebra, bgpd];
        }
        File.WriteAllText(Path.Combine(directory, "bird.conf"), BirdConfiguration(plan, podRanges));
        var bird = InNamespace.StartDetached(plan.UnderlayNamespace, "/usr/sbin/bird",
            ["-f", "-c", Path.Combine(directory, "bird.conf"), "-s", Path.Combine(directory, "bird.ctl"), "-P", Path.Combine(directory, "bird.pid")],
            Path.Combine(directory, "bird.log"));
        WaitFor(() => File.Exists(Path.Combine(directory, "bird.ctl")), "BIRD's control socket", Path.Combine(directory, "bird.log"));
        return [bird];
    }

    /// <summary>The router's BGP table as its own tool prints it, for `trellis-local status`.</summary>
    public static string Table(string kind, string directory, string underlayNamespace)
    {
        var (program, arguments) = kind == Frr
            ? ("/usr/bin/vtysh", new[] { "--vty_socket", directory, "-c", "show bgp summary", "-c", "show bgp ipv4 unicast", "-c", "show bgp ipv6 unicast" })
            : ("/usr/sbin/birdc", new[] { "-s", Path.Combine(directory, "bird.ctl"), "show", "route", "all" });
        var info = InNamespace.StartInfo(underlayNamespace, program, arguments);
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {program}");
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return output;
    }

    public static string FrrConfiguration(TopologyPlan plan, IReadOnlyList<Cidr> podRanges, string directory)
    {
        var v4 = podRanges.Where(r => r.IsIPv4).ToList();
        var v6 = podRanges.Where(r => r.IsIPv6).ToList();
        var config = new StringBuilder();
        config.AppendLine("frr defaults datacenter");
        config.AppendLine("hostname trellis-router");
        config.AppendLine($"log file {Path.Combine(directory, "bgpd.log")}");
        for (int i = 0; i < v4.Count; i++) config.AppendLine($"ip prefix-list PODS seq {5 * (i + 1)} permit {v4[i]} le 32");
        for (int i = 0; i < v6.Count; i++) config.AppendLine($"ipv6 prefix-list PODS6 seq {5 * (i + 1)} permit {v6[i]} le 128");
        // FRR refuses eBGP routes without a policy (RFC 8212): accept the pod ranges, send nothing.
        if (v4.Count > 0) config.AppendLine("route-map NODES-IN permit 10\n match ip address prefix-list PODS");
        if (v6.Count > 0) config.AppendLine("route-map NODES-IN permit 20\n match ipv6 address prefix-list PODS6");
        config.AppendLine("route-map NODES-OUT deny 10");
        config.AppendLine($"router bgp {RouterAsn}");
        config.AppendLine($" bgp router-id {plan.ApiAddress}");
        config.AppendLine(" bgp graceful-restart");
        config.AppendLine(" neighbor NODES peer-group");
        config.AppendLine($" neighbor NODES remote-as {BgpSpec.DefaultAsn}");
        config.AppendLine(" neighbor NODES timers 3 9");
        config.AppendLine($" bgp listen range {Underlay} peer-group NODES");
        foreach (var family in new[] { "ipv4", "ipv6" })
        {
            config.AppendLine($" address-family {family} unicast");
            config.AppendLine("  neighbor NODES activate");
            config.AppendLine("  neighbor NODES route-map NODES-IN in");
            config.AppendLine("  neighbor NODES route-map NODES-OUT out");
            config.AppendLine(" exit-address-family");
        }
        return config.ToString();
    }

    public static string BirdConfiguration(TopologyPlan plan, IReadOnlyList<Cidr> podRanges)
    {
        var v4 = podRanges.Where(r => r.IsIPv4).ToList();
        var v6 = podRanges.Where(r => r.IsIPv6).ToList();
        var config = new StringBuilder();
        config.AppendLine($"router id {plan.ApiAddress};");
        config.AppendLine("protocol device { }");
        config.AppendLine("protocol kernel { ipv4 { export all; }; }");
        config.AppendLine("protocol kernel { ipv6 { export all; }; }");
        config.AppendLine("filter nodes_in {");
        if (v4.Count > 0) config.AppendLine($"  if net.type = NET_IP4 && net ~ [{string.Join(", ", v4.Select(r => $"{r}+"))}] then accept;");
        if (v6.Count > 0) config.AppendLine($"  if net.type = NET_IP6 && net ~ [{string.Join(", ", v6.Select(r => $"{r}+"))}] then accept;");
        config.AppendLine("  reject;");
        config.AppendLine("}");
        config.AppendLine("protocol bgp nodes {");
        config.AppendLine($"  local as {RouterAsn}; neighbor range {Underlay} as {BgpSpec.DefaultAsn}; dynamic name \"node\"; direct;");
        config.AppendLine("  hold time 9; keepalive time 3; graceful restart on;");
        config.AppendLine("  ipv4 { import filter nodes_in; export none; gateway direct; };");
        config.AppendLine("  ipv6 { import filter nodes_in; export none; gateway direct; };");
        config.AppendLine("}");
        return config.ToString();
    }

    private static void Run(string program, params string[] arguments)
    {
        var info = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardError = true };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {program}");
        process.WaitForExit();
        if (process.ExitCode != 0) throw new LocalClusterException($"{program} {string.Join(' ', arguments)}: {process.StandardError.ReadToEnd().Trim()}");
    }

    private static void WaitFor(Func<bool> condition, string what, string log)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new LocalClusterException($"the underlay router did not bring up {what}: {(File.Exists(log) ? string.Join(" | ", File.ReadLines(log).TakeLast(5)) : "no log")}");
            Thread.Sleep(100);
        }
    }
}
