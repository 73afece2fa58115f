using System.Net;
using System.Text;
using System.Text.Json;
using Trellis.Addressing;
using Trellis.Testing;

namespace Trellis.Bgp.Tests.Interop;

/// <summary>GoBGP 3 (gobgpd), read with the gobgp client over its gRPC port inside the router namespace.</summary>
public sealed class GoBgpRouter(NetworkNamespace ns, RouterSetup setup) : RouterDaemon(ns, setup)
{
    private const string Api = "127.0.0.1:50051";

    public override string Name => "GoBGP";

    public override IReadOnlyList<LearnedRoute> Routes()
    {
        var routes = new List<LearnedRoute>();
        foreach (var family in new[] { "ipv4", "ipv6" })
        {
            using var json = JsonDocument.Parse(GoBgp("global", "rib", "-a", family, "-j"));
            foreach (var destination in json.RootElement.EnumerateObject())
                foreach (var path in destination.Value.EnumerateArray())
                {
                    var hop = path.GetProperty("attrs").EnumerateArray()
                        .Select(a => a.TryGetProperty("nexthop", out var nh) ? nh.GetString() : null)
                        .First(h => h is not null);
                    routes.Add(new LearnedRoute(Cidr.Parse(destination.Name), IPAddress.Parse(hop!),
                        path.TryGetProperty("stale", out var stale) && stale.GetBoolean()));
                }
        }
        return routes;
    }

    public override string NeighborState(IPAddress neighbor)
    {
        using var json = JsonDocument.Parse(GoBgp("neighbor", neighbor.ToString(), "-j"));
        return json.RootElement.GetProperty("state").GetProperty("session_state").ToString();
    }

    public string GoBgp(params string[] arguments) => Exec("gobgp", ["-u", "127.0.0.1", "-p", "50051", .. arguments]);

    protected override void WriteConfiguration()
    {
        var config = new StringBuilder();
        config.AppendLine($"[global.config]\n  as = {Setup.Asn}\n  router-id = \"{Setup.RouterId}\"");
        foreach (var neighbor in Setup.Neighbors)
        {
            config.AppendLine($"[[neighbors]]\n  [neighbors.config]\n    neighbor-address = \"{neighbor.Address}\"\n    peer-as = {neighbor.Asn}");
            if (neighbor.Password is not null) config.AppendLine($"    auth-password = \"{neighbor.Password}\"");
            config.AppendLine("  [neighbors.timers.config]\n    connect-retry = 1\n    hold-time = 3\n    keepalive-interval = 1\n    idle-hold-time-after-reset = 1");
            config.AppendLine("  [neighbors.graceful-restart.config]\n    enabled = true\n    restart-time = 120");
            foreach (var family in new[] { "ipv4-unicast", "ipv6-unicast" })
                config.AppendLine($"  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = \"{family}\"\n" +
                                  "    [neighbors.afi-safis.mp-graceful-restart.config]\n      enabled = true");
        }
        File.WriteAllText(Path.Combine(Directory, "gobgpd.toml"), config.ToString());
    }

    protected override void Launch() =>
        Spawn("gobgpd", "-f", $"{Directory}/gobgpd.toml", "--api-hosts", Api, "--pprof-disable", "-l", "info", "-p");

    protected override bool IsAnswering() => Namespace.Run("gobgp", "-u", "127.0.0.1", "-p", "50051", "global").Succeeded;

    protected override string Log() => Tail("gobgpd.out");
}
