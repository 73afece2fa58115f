using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Trellis.Addressing;
using Trellis.Testing;

namespace Trellis.Bgp.Tests.Interop;

/// <summary>BIRD 2: one BGP protocol per neighbour with IPv4 and IPv6 channels, importing the pod ranges only.</summary>
public sealed partial class BirdRouter(NetworkNamespace ns, RouterSetup setup) : RouterDaemon(ns, setup)
{
    public override string Name => "BIRD";

    public override IReadOnlyList<LearnedRoute> Routes()
    {
        var routes = new List<LearnedRoute>();
        Cidr? current = null;
        bool stale = false;
        foreach (var line in Birdc("show route all").Split('\n'))
        {
            var head = RouteLine().Match(line);
            if (head.Success)
            {
                current = Cidr.Parse(head.Groups[1].Value);
                stale = false;
                continue;
            }
            if (line.Contains("BGP.") && line.Contains("stale", StringComparison.OrdinalIgnoreCase)) stale = true;
            var via = ViaLine().Match(line);
            if (current is { } prefix && via.Success)
                routes.Add(new LearnedRoute(prefix, IPAddress.Parse(via.Groups[1].Value), stale));
        }
        return routes;
    }

    public override string NeighborState(IPAddress neighbor)
    {
        var line = Birdc("show protocols").Split('\n').FirstOrDefault(l => l.StartsWith(ProtocolName(neighbor) + " "));
        return line?.Split(' ', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "unknown";
    }

    public string Birdc(string command) => Exec("birdc", ["-s", $"{Directory}/bird.ctl", .. command.Split(' ')]);

    /// <summary>BIRD keeps a restarting peer's routes but does not mark them in "show route"; that they stay is the check.</summary>
    public override bool ShowsStale => false;

    protected override void WriteConfiguration()
    {
        var config = new StringBuilder();
        config.AppendLine($"router id {Setup.RouterId};");
        config.AppendLine("protocol device { }");
        config.AppendLine("filter nodes_in {");
        config.AppendLine($"  if net.type = NET_IP4 && net ~ [{RouterSetup.PodRangeV4}+] then accept;");
        config.AppendLine($"  if net.type = NET_IP6 && net ~ [{RouterSetup.PodRangeV6}+] then accept;");
        config.AppendLine("  reject;");
        config.AppendLine("}");
        foreach (var neighbor in Setup.Neighbors)
        {
            config.AppendLine($"protocol bgp {ProtocolName(neighbor.Address)} {{");
            config.AppendLine($"  local as {Setup.Asn}; neighbor {neighbor.Address} as {neighbor.Asn};");
            config.AppendLine("  hold time 3; keepalive time 1; connect retry time 1; connect delay time 1; error wait time 1, 3;");
            config.AppendLine("  graceful restart on; direct;");
            if (neighbor.Password is not null) config.AppendLine($"  password \"{neighbor.Password}\";");
            // The nodes share the router's segment: their next hops are direct, on iBGP too.
            config.AppendLine("  ipv4 { import filter nodes_in; export none; gateway direct; };");
            config.AppendLine("  ipv6 { import filter nodes_in; export none; gateway direct; };");
            config.AppendLine("}");
        }
        File.WriteAllText(Path.Combine(Directory, "bird.conf"), config.ToString());
    }

    protected override void Launch() =>
        Spawn("bird", "-f", "-c", $"{Directory}/bird.conf", "-s", $"{Directory}/bird.ctl", "-P", $"{Directory}/bird.pid");

    protected override bool IsAnswering() =>
        File.Exists($"{Directory}/bird.ctl") && Namespace.Run("birdc", "-s", $"{Directory}/bird.ctl", "show", "status").Succeeded;

    protected override string Log() => Tail("bird.out");

    private static string ProtocolName(IPAddress neighbor) => "n_" + neighbor.ToString().Replace('.', '_').Replace(':', '_');

    [GeneratedRegex(@"^([0-9a-f.:]+/\d+)\s")]
    private static partial Regex RouteLine();

    [GeneratedRegex(@"^\s+via ([0-9a-f.:]+) on ")]
    private static partial Regex ViaLine();
}
