using System.Diagnostics;
using System.Text.Json.Nodes;
using Trellis.Crds;
using Trellis.Testing;
using Xunit.Abstractions;

namespace Trellis.NodeAgent.Tests.EndToEnd;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EndToEndCollection
{
    public const string Name = "end-to-end worlds";
}

/// <summary>
/// The classic topology: one underlay segment, nodes at 192.168.1.11/.12/.13 (and fd00::11/.12/.13),
/// an agent process in each, two dual-stack pods per node. Every scenario of Direct mode runs in
/// this one world, in order.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class DirectModeTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Classic_topology_routes_every_pod_to_every_pod_and_keeps_it_right()
    {
        await using var world = new AgentWorld(output);
        var underlay = world.Topology.AddSegment("underlay", "192.168.1.1/24");
        var external = world.Topology.Namespace("external");
        world.Topology.Attach(external, underlay, "192.168.1.100/24");
        string[] nodes = ["node1", "node2", "node3"];
        for (int i = 0; i < nodes.Length; i++)
            world.AddNode(nodes[i], underlay, $"192.168.1.{11 + i}/24").Exec("ip", "addr", "add", $"fd00::{11 + i}/64", "dev", "eth0", "nodad");
        await world.StartApiServerAsync(underlay);
        for (int i = 0; i < nodes.Length; i++)
            await world.CreateSubnetAsync(nodes[i], [$"192.168.1.{11 + i}", $"fd00::{11 + i}"], RoutingModes.Direct,
                [$"10.244.{i + 1}.0/24", $"fd10::{i + 1}:0:0:0/80"]);
        foreach (var node in nodes) world.StartAgent(node);
        foreach (var node in nodes) await world.WaitProgrammedAsync(node);

        // Routes carry Trellis's protocol and go straight to the peer's underlay address.
        var routes1 = world.Routes("node1");
        Assert.Contains("10.244.2.0/24 via 192.168.1.12 dev eth0 proto 148", routes1);
        Assert.Contains("10.244.3.0/24 via 192.168.1.13 dev eth0 proto 148", routes1);
        var routes6 = world.Routes6("node1");
        Assert.Contains("fd10::2:0:0:0/80 via fd00::12 dev eth0 proto 148", routes6);
        Assert.Contains("fd10::3:0:0:0/80 via fd00::13 dev eth0 proto 148", routes6);
        foreach (var node in nodes)
        {
            Assert.Equal("1", world.Node(node).Exec("sysctl", "-n", "net.ipv4.ip_forward").Trim());
            Assert.Equal("1", world.Node(node).Exec("sysctl", "-n", "net.ipv6.conf.all.forwarding").Trim());
        }
        // The IPv6 gateway is usable before the first pod arrives: no duplicate address detection holds it back.
        Assert.DoesNotContain("tentative", world.Node("node1").Exec("ip", "-6", "addr", "show", "dev", "trellis0", "scope", "global"));
        var status = (await world.GetSubnetAsync("node1")).Status!;
        Assert.Equal(2, status.PeersRouted);
        Assert.Equal(253 + (1L << 48) - 2, status.AddressCapacity);
        Assert.True(File.Exists(Path.Combine(world.NodeDirectory("node1"), "bin", "trellis-cni")));

        // The probes and /metrics on port 9612, as the kubelet and Prometheus reach them on the node.
        var scrape = MetricsScrape.Run("http://192.168.1.11:9612", world.Node("node1"));
        Assert.Equal((200, 200, 200), (scrape.Healthz, scrape.Readyz, scrape.Metrics));
        foreach (var name in Observability.AgentEndpointTests.RequiredSamples)
            Assert.True(scrape.Samples.Any(s => s.Name == name), $"/metrics lacks {name}");
        Assert.True(scrape.Value("trellis_agent_routes_programmed") >= 4, "4 routes to 2 peers' IPv4 and IPv6 blocks");
        Assert.Equal(2, scrape.Value("trellis_agent_peers_routed", l => l["pod_network"] == "pods"));
        Assert.Equal(1, scrape.Value("trellis_agent_programmed"));
        Assert.Equal(253 + (1L << 48) - 2, scrape.Value("trellis_agent_ipam_address_capacity", l => l["node_subnet"] == NodeSubnet.NameFor("pods", "node1")));
        Assert.True(scrape.Value("trellis_api_writes_total", l => l["verb"] == "patch" && l["resource"] == "nodesubnets/status" && l["code"] == "200") >= 1);

        var pods = nodes.SelectMany(node => new[] { world.AddPod(node), world.AddPod(node) }).ToList();
        var failures = new List<string>();
        foreach (var from in pods)
            foreach (var to in pods.Where(p => p != from))
                if (!from.Pod.Ping(to.Address)) failures.Add($"{from.Address} -> {to.Address}");
        Assert.True(failures.Count == 0, $"pings lost: {string.Join(", ", failures)}");
        // Without encapsulation the pods get the underlay's whole MTU.
        Assert.Contains("mtu 1500", pods[0].Pod.Exec("ip", "link", "show", "eth0"));

        // The same mesh over IPv6.
        var pods6 = pods.Select(p => (p.Pod, Address: AgentWorld.GlobalIPv6Of(p.Pod))).ToList();
        Assert.All(pods6, p => Assert.StartsWith("fd10::", p.Address));
        // A first IPv6 packet waits on neighbour discovery at three hops; on a loaded 2-core machine that
        // can outlast one ping's deadline, so a lost first echo is retried once. A missing route fails both.
        foreach (var from in pods6)
            foreach (var to in pods6.Where(p => p != from))
                if (!from.Pod.Ping(to.Address) && !from.Pod.Ping(to.Address, count: 2)) failures.Add($"{from.Address} -> {to.Address}");
        Assert.True(failures.Count == 0, $"IPv6 pings lost: {string.Join(", ", failures)}");
        await world.EventuallyAsync(async () => (await world.GetSubnetAsync("node1")).Status?.AddressesInUse == 4, "node1 reports 4 addresses in use (2 pods, 2 families)");

        // The periodic resync reads the kernel again: Trellis routes deleted behind the agent's back come back
        // (no NodeSubnet changed, so only a resync can do it), and a route another owner added by hand survives it.
        world.Node("node1").Exec("ip", "route", "add", "10.99.0.0/24", "via", "192.168.1.100", "proto", "static");
        world.Node("node1").Exec("ip", "route", "del", "10.244.3.0/24");
        world.Node("node1").Exec("ip", "-6", "route", "del", "fd10::3:0:0:0/80");
        await world.EventuallyAsync(() => world.Routes("node1").Contains("10.244.3.0/24 via 192.168.1.13 dev eth0 proto 148") &&
            world.Routes6("node1").Contains("fd10::3:0:0:0/80 via fd00::13 dev eth0 proto 148"), "a resync restores node1's routes to node3", TimeSpan.FromSeconds(15));
        Assert.Contains("10.99.0.0/24 via 192.168.1.100 dev eth0 proto static", world.Routes("node1"));

        // Masquerade: the external host has no route to pods, so an answer proves the node's address was used;
        // pod-to-pod traffic keeps the pod's own source address.
        var (podA, addressA) = pods[0];
        Assert.True(podA.Ping("192.168.1.100"), "pod on node1 cannot reach the external host");
        var (podB, addressB) = pods[2];
        podB.Exec("nft", "add", "table", "ip", "witness");
        podB.Exec("nft", "add", "chain", "ip", "witness", "input", "{ type filter hook input priority 0; }");
        podB.Exec("nft", "add", "rule", "ip", "witness", "input", "ip", "saddr", addressA, "icmp", "type", "echo-request", "counter");
        Assert.True(podA.Ping(addressB, count: 3));
        Assert.Contains("packets 3", podB.Exec("nft", "list", "table", "ip", "witness"));

        // An agent restarted under a running ping changes nothing: no route event, no lost reply.
        var monitor = StartMonitor(world.Node("node1").Name);
        var ping = Task.Run(() => podA.Run("ping", "-i", "0.05", "-c", "120", "-W", "1", "-q", addressB));
        await Task.Delay(500);
        world.KillAgent("node1");
        world.StartAgent("node1");
        var pingResult = await ping;
        await Task.Delay(TimeSpan.FromSeconds(2));
        monitor.Kill();
        var events = await monitor.StandardOutput.ReadToEndAsync();
        output.WriteLine(pingResult.StandardOutput);
        Assert.Contains(" 0% packet loss", pingResult.StandardOutput);
        Assert.DoesNotContain("proto 148", events);
        Assert.Contains("10.244.2.0/24 via 192.168.1.12 dev eth0 proto 148", world.Routes("node1"));

        // A block added to node2: its conflist and every peer follow.
        await world.PatchSubnetSpecAsync("node2", new
        {
            cidrs = new[] { "10.244.2.0/24", "fd10::2:0:0:0/80", "10.244.12.0/24" },
            gateways = new[] { "10.244.2.1", "fd10::2:0:0:1", "10.244.12.1" },
        });
        await world.EventuallyAsync(() => File.ReadAllText(world.ConflistPath("node2")).Contains("10.244.12.0/24"), "node2's conflist holds the new block");
        var ranges = JsonNode.Parse(File.ReadAllText(world.ConflistPath("node2")))!["plugins"]![0]!["ipam"]!["ranges"]![0]!.AsArray();
        Assert.Equal(2, ranges.Count);
        foreach (var peer in new[] { "node1", "node3" })
            await world.EventuallyAsync(() => world.Routes(peer).Contains("10.244.12.0/24 via 192.168.1.12 dev eth0 proto 148"), $"{peer} routes the new block");

        // A second PodNetwork that selects only node1: node2 and node3 are not in it, yet route its block (with its policy)
        // and their pods reach node1's pod of that block. node1 is still counted once among the peers of each.
        await world.CreateSubnetAsync("node1", ["192.168.1.11", "fd00::11"], RoutingModes.Direct, ["10.250.0.0/26"],
            network: "second", networkCidrs: ["10.250.0.0/16"]);
        foreach (var peer in new[] { "node2", "node3" })
            await world.EventuallyAsync(() => world.Routes(peer).Contains("10.250.0.0/26 via 192.168.1.11 dev eth0 proto 148"), $"{peer} routes node1's block of \"second\"");
        await world.EventuallyAsync(() => File.ReadAllText(world.ConflistPath("node1")).Contains("10.250.0.0/26"), "node1's conflist holds its block of \"second\"");
        await world.EventuallyAsync(async () => (await world.GetSubnetAsync("node1", "second")).Status?.PeersRouted == 2, "second.node1 reports 2 peers routed");
        Assert.Equal(2, (await world.GetSubnetAsync("node2")).Status!.PeersRouted);
        var (secondPod, secondAddress) = world.AddPod("node1", onlyBlock: "10.250.0.0/26");
        Assert.StartsWith("10.250.0.", secondAddress);
        foreach (var (from, fromAddress) in new[] { pods[2], pods[4] })
            if (!from.Ping(secondAddress)) failures.Add($"{fromAddress} -> {secondAddress}");
        if (!secondPod.Ping(pods[5].Address)) failures.Add($"{secondAddress} -> {pods[5].Address}");
        Assert.True(failures.Count == 0, $"pings across networks lost: {string.Join(", ", failures)}");

        // A node removed: its routes vanish on every peer.
        await world.DeleteSubnetAsync("node3");
        foreach (var peer in new[] { "node1", "node2" })
            await world.EventuallyAsync(() => !world.Routes(peer).Contains("10.244.3.0/24") && !world.Routes6(peer).Contains("fd10::3:0:0:0/80"),
                $"{peer} forgets node3's blocks");
        Assert.Contains("10.99.0.0/24 via 192.168.1.100 dev eth0 proto static", world.Routes("node1"));
    }

    private static Process StartMonitor(string ns)
    {
        var info = new ProcessStartInfo("ip") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in new[] { "-n", ns, "monitor", "route" }) info.ArgumentList.Add(argument);
        return Process.Start(info)!;
    }
}
