using Trellis.Crds;
using Trellis.Testing;
using Xunit.Abstractions;

namespace Trellis.NodeAgent.Tests.EndToEnd;

/// <summary>
/// Two L2 groups joined by a router namespace: node1 and node2 on 192.168.1.0/24, node3 on
/// 192.168.2.0/24. First VXLAN to every peer, then the same world switched to Auto (direct
/// inside a group, VXLAN across the router); both times every pod reaches every pod.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class RoutedModeTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Vxlan_then_auto_reach_every_pod_across_a_router()
    {
        await using var world = new AgentWorld(output);
        var lan1 = world.Topology.AddSegment("underlay", "192.168.1.1/24");
        var lan2 = world.Topology.AddSegment("underlay2");
        world.Topology.AddRouter("router", (lan1, "192.168.1.254/24"), (lan2, "192.168.2.254/24"));
        lan1.Namespace.Exec("ip", "route", "add", "192.168.2.0/24", "via", "192.168.1.254");
        var nodes = new[] { ("node1", "192.168.1.11", "192.168.1.254"), ("node2", "192.168.1.12", "192.168.1.254"), ("node3", "192.168.2.13", "192.168.2.254") };
        foreach (var (name, address, gateway) in nodes)
            world.AddNode(name, name == "node3" ? lan2 : lan1, $"{address}/24", gateway);
        await world.StartApiServerAsync(lan1);
        for (int i = 0; i < nodes.Length; i++)
            await world.CreateSubnetAsync(nodes[i].Item1, nodes[i].Item2, RoutingModes.Vxlan, $"10.244.{i + 1}.0/24");
        foreach (var (name, _, _) in nodes) world.StartAgent(name);
        foreach (var (name, _, _) in nodes) await world.WaitProgrammedAsync(name);

        var node1 = world.Node("node1");
        Assert.Contains("10.244.2.0/24 via 10.244.2.0 dev trellis.vxlan proto 148 onlink", world.Routes("node1"));
        Assert.Contains("10.244.3.0/24 via 10.244.3.0 dev trellis.vxlan proto 148 onlink", world.Routes("node1"));
        var vxlan = node1.Exec("ip", "-d", "link", "show", "trellis.vxlan");
        Assert.Contains("mtu 1450", vxlan);
        Assert.Contains("vxlan id 4096", vxlan);
        Assert.Contains("local 192.168.1.11", vxlan);
        Assert.Contains("nolearning", vxlan);
        Assert.Contains("0e:74:c0:a8:02:0d dst 192.168.2.13", node1.Exec("bridge", "fdb", "show", "dev", "trellis.vxlan"));
        Assert.Contains("10.244.3.0 lladdr 0e:74:c0:a8:02:0d PERMANENT", node1.Exec("ip", "neigh", "show", "dev", "trellis.vxlan"));
        Assert.Contains("\"mtu\": 1450", File.ReadAllText(world.ConflistPath("node1")));

        // node3 derived the same VTEP address on its own: what node1 programmed is node3's device address.
        Assert.Contains("link/ether 0e:74:c0:a8:02:0d", world.Node("node3").Exec("ip", "link", "show", "trellis.vxlan"));

        var pods = nodes.SelectMany(n => new[] { world.AddPod(n.Item1), world.AddPod(n.Item1) }).ToList();
        // The pods' MTU leaves room for the 50 bytes VXLAN adds over the 1500-byte underlay.
        Assert.Contains("mtu 1450", pods[0].Pod.Exec("ip", "link", "show", "eth0"));
        Assert.Contains("mtu 1450", node1.Exec("ip", "link", "show", "trellis0"));
        PingMesh(pods);
        // No VTEP address was resolved at run time: every neighbour on the device is one the agent set.
        var learned = node1.Exec("ip", "neigh", "show", "dev", "trellis.vxlan").Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(line => !line.Contains("PERMANENT")).ToList();
        Assert.True(learned.Count == 0, $"neighbours resolved at run time: {string.Join("; ", learned)}");

        // A restart over a programmed VXLAN node keeps the device, its routes and entries as they are.
        var monitor = StartMonitor(node1.Name);
        world.KillAgent("node1");
        world.StartAgent("node1");
        await world.EventuallyAsync(() => world.AgentLog("node1").Contains("waiting for the NodeSubnet cache"), "the restarted agent runs");
        await Task.Delay(TimeSpan.FromSeconds(5));
        monitor.Kill();
        var events = await monitor.StandardOutput.ReadToEndAsync();
        output.WriteLine($"events during the restart:\n{events}");
        // Kernel chatter (pod ARP on trellis0, late IPv6 link-local routes) is expected; Trellis's own objects must stay still.
        Assert.DoesNotContain("proto 148", events);
        Assert.DoesNotContain(": trellis.vxlan:", events);
        Assert.DoesNotContain("dev trellis.vxlan lladdr", events);
        Assert.Contains("0e:74:c0:a8:02:0d dst 192.168.2.13", node1.Exec("bridge", "fdb", "show", "dev", "trellis.vxlan"));

        foreach (var (name, _, _) in nodes)
            await world.PatchSubnetSpecAsync(name, new { routing = new { mode = RoutingModes.Auto } });
        await world.EventuallyAsync(() => world.Routes("node1").Contains("10.244.2.0/24 via 192.168.1.12 dev eth0 proto 148"), "node1 reaches node2 directly");
        await world.EventuallyAsync(() => world.Routes("node2").Contains("10.244.1.0/24 via 192.168.1.11 dev eth0 proto 148"), "node2 reaches node1 directly");
        foreach (var (name, _, _) in nodes) await world.WaitProgrammedAsync(name);
        Assert.Contains("10.244.3.0/24 via 10.244.3.0 dev trellis.vxlan proto 148 onlink", world.Routes("node1"));
        Assert.Contains("10.244.1.0/24 via 10.244.1.0 dev trellis.vxlan proto 148 onlink", world.Routes("node3"));
        Assert.Contains("10.244.2.0/24 via 10.244.2.0 dev trellis.vxlan proto 148 onlink", world.Routes("node3"));
        Assert.DoesNotContain("dst 192.168.1.12", node1.Exec("bridge", "fdb", "show", "dev", "trellis.vxlan"));
        PingMesh(pods);
    }

    private static System.Diagnostics.Process StartMonitor(string ns)
    {
        var info = new System.Diagnostics.ProcessStartInfo("ip") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in new[] { "-n", ns, "monitor", "route", "link", "neigh" }) info.ArgumentList.Add(argument);
        return System.Diagnostics.Process.Start(info)!;
    }

    private static void PingMesh(IReadOnlyList<(NetworkNamespace Pod, string Address)> pods)
    {
        var failures = new List<string>();
        foreach (var from in pods)
            foreach (var to in pods.Where(p => p != from))
                if (!from.Pod.Ping(to.Address)) failures.Add($"{from.Address} -> {to.Address}");
        Assert.True(failures.Count == 0, $"pings lost: {string.Join(", ", failures)}");
    }
}
