using System.Net;
using System.Text;
using System.Text.Json;
using Trellis.Addressing;
using Trellis.Testing;

namespace Trellis.Bgp.Tests.Interop;

/// <summary>
/// FRR: bgpd and zebra (so learned routes reach the router namespace's kernel). eBGP needs a
/// policy in FRR (RFC 8212): the route-map accepts the pod ranges from the nodes and sends nothing.
/// </summary>
public sealed class FrrRouter(NetworkNamespace ns, RouterSetup setup) : RouterDaemon(ns, setup)
{
    public override string Name => "FRR";

    public override IReadOnlyList<LearnedRoute> Routes()
    {
        var routes = new List<LearnedRoute>();
        foreach (var family in new[] { "ipv4", "ipv6" })
        {
            using var json = JsonDocument.Parse(Vtysh($"show bgp {family} unicast json"));
            if (!json.RootElement.TryGetProperty("routes", out var table)) continue;
            foreach (var route in table.EnumerateObject())
                foreach (var path in route.Value.EnumerateArray())
                {
                    var hop = path.GetProperty("nexthops").EnumerateArray()
                        .First(h => !h.TryGetProperty("scope", out var scope) || scope.GetString() == "global");
                    routes.Add(new LearnedRoute(Cidr.Parse(route.Name), IPAddress.Parse(hop.GetProperty("ip").GetString()!),
                        path.TryGetProperty("stale", out var stale) && stale.GetBoolean()));
                }
        }
        return routes;
    }

    public override string NeighborState(IPAddress neighbor)
    {
        using var json = JsonDocument.Parse(Vtysh($"show bgp neighbors {neighbor} json"));
        return json.RootElement.TryGetProperty(neighbor.ToString(), out var peer) ? peer.GetProperty("bgpState").GetString()! : "unknown";
    }

    /// <summary>The routes zebra installed into the router namespace's kernel ("proto bgp").</summary>
    public string KernelRoutes(string family = "-4") => Exec("ip", family, "route", "show", "proto", "bgp");

    public string Vtysh(params string[] commands) =>
        Exec("vtysh", ["--vty_socket", Directory, .. commands.SelectMany(c => new[] { "-c", c })]);

    protected override void WriteConfiguration()
    {
        var config = new StringBuilder();
        config.AppendLine("frr defaults datacenter");
        config.AppendLine("hostname router");
        config.AppendLine($"log file {Directory}/bgpd.log");
        config.AppendLine($"ip prefix-list PODS seq 5 permit {RouterSetup.PodRangeV4} le 32");
        config.AppendLine($"ipv6 prefix-list PODS6 seq 5 permit {RouterSetup.PodRangeV6} le 128");
        config.AppendLine("route-map NODES-IN permit 10\n match ip address prefix-list PODS");
        config.AppendLine("route-map NODES-IN permit 20\n match ipv6 address prefix-list PODS6");
        config.AppendLine("route-map NODES-OUT deny 10");
        config.AppendLine($"router bgp {Setup.Asn}");
        config.AppendLine($" bgp router-id {Setup.RouterId}");
        config.AppendLine(" bgp graceful-restart");
        foreach (var neighbor in Setup.Neighbors)
        {
            config.AppendLine($" neighbor {neighbor.Address} remote-as {neighbor.Asn}");
            config.AppendLine($" neighbor {neighbor.Address} timers 1 3");
            config.AppendLine($" neighbor {neighbor.Address} timers connect 1");
            if (neighbor.Password is not null) config.AppendLine($" neighbor {neighbor.Address} password {neighbor.Password}");
        }
        foreach (var family in new[] { "ipv4", "ipv6" })
        {
            config.AppendLine($" address-family {family} unicast");
            foreach (var neighbor in Setup.Neighbors)
            {
                config.AppendLine($"  neighbor {neighbor.Address} activate");
                config.AppendLine($"  neighbor {neighbor.Address} route-map NODES-IN in");
                config.AppendLine($"  neighbor {neighbor.Address} route-map NODES-OUT out");
            }
            config.AppendLine(" exit-address-family");
        }
        File.WriteAllText(Path.Combine(Directory, "bgpd.conf"), config.ToString());
        File.WriteAllText(Path.Combine(Directory, "zebra.conf"), "");
        Shell.RunChecked("chown", "-R", "frr:frr", Directory);
    }

    protected override void Launch()
    {
        string[] common = ["-u", "frr", "-g", "frr", "-z", $"{Directory}/zserv.api", "--vty_socket", Directory, "-P", "0"];
        Spawn("/usr/lib/frr/zebra", [.. common, "-i", $"{Directory}/zebra.pid", "-f", $"{Directory}/zebra.conf"]);
        Eventually.True(() => File.Exists($"{Directory}/zserv.api"), TimeSpan.FromSeconds(10), () => $"zebra's socket ({Tail("zebra.out")})");
        Spawn("/usr/lib/frr/bgpd", [.. common, "-i", $"{Directory}/bgpd.pid", "-f", $"{Directory}/bgpd.conf"]);
    }

    protected override bool IsAnswering() =>
        File.Exists($"{Directory}/bgpd.vty") && Namespace.Run("vtysh", "--vty_socket", Directory, "-c", "show bgp summary json").Succeeded;

    protected override string Log() => $"{Tail("bgpd.out")} {Tail("bgpd.log")}";
}
