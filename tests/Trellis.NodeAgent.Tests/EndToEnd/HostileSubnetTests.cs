using Trellis.Crds;
using Trellis.Testing;
using Xunit.Abstractions;

namespace Trellis.NodeAgent.Tests.EndToEnd;

/// <summary>
/// Issue 8's attacks on the agents, with real agent processes and a real kernel: NodeSubnets (a peer's or the
/// node's own) that would take the node's own network, and a route of another owner that no retry can fix.
/// The API server listens on 192.168.1.1, inside the nodes' segment, as it does on many small clusters.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class HostileSubnetTests(ITestOutputHelper output)
{
    private static async Task<AgentWorld> TwoNodesAsync(ITestOutputHelper output)
    {
        var world = new AgentWorld(output);
        var underlay = world.Topology.AddSegment("underlay", "192.168.1.1/24");
        world.AddNode("node1", underlay, "192.168.1.11/24");
        world.AddNode("node2", underlay, "192.168.1.12/24");
        await world.StartApiServerAsync(underlay);
        await world.CreateSubnetAsync("node1", "192.168.1.11", RoutingModes.Direct, "10.244.1.0/24");
        await world.CreateSubnetAsync("node2", "192.168.1.12", RoutingModes.Direct, "10.244.2.0/24");
        return world;
    }

    private static Task ConditionAsync(AgentWorld world, string node, string reason, string mentions) =>
        world.EventuallyAsync(async () => await world.ProgrammedAsync(node) is { Status: "False" } c && c.Reason == reason && c.Message.Contains(mentions),
            $"{node}'s NodeSubnet says {reason} about {mentions}");

    [Fact]
    public async Task No_NodeSubnet_own_or_peer_can_take_the_nodes_own_network()
    {
        await using var world = await TwoNodesAsync(output);
        world.StartAgent("node1");
        world.StartAgent("node2");
        await world.WaitProgrammedAsync("node1");
        await world.WaitProgrammedAsync("node2");

        // A peer's block over the segment that holds the API server, via a made-up node address. Agents that routed it
        // could no longer reach the API server to hear of its deletion; these refuse it and say so in their own status.
        await world.CreateSubnetAsync("ghost", ["192.168.1.99"], RoutingModes.Direct, ["192.168.1.0/28"], networkCidrs: ["192.168.0.0/16"]);
        foreach (var node in new[] { "node1", "node2" })
            await ConditionAsync(world, node, "PeersSkipped", "NodeSubnet pods.ghost: block 192.168.1.0/28 refused");
        foreach (var node in new[] { "node1", "node2" })
            Assert.DoesNotContain("192.168.1.0/28", world.Routes(node));
        await world.EventuallyAsync(async () => (await world.EventsAsync()).Items.Any(e =>
                e.InvolvedObject.Name == "pods.ghost" && e.Reason == "UnsafeBlock" && e.Type == "Warning" && e.Message.Contains("192.168.1.0/24")),
            "a Warning Event about pods.ghost");
        await world.DeleteSubnetAsync("ghost");
        await world.WaitProgrammedAsync("node1");

        // The node's own NodeSubnet is given a block of its own segment: the gateway 192.168.1.65 must never reach trellis0.
        // The API server's CEL rules want every block inside networkCIDRs, so the hostile writer widens those too.
        await world.PatchSubnetSpecAsync("node2", new
        {
            networkCIDRs = new[] { "10.244.0.0/16", "192.168.0.0/16" },
            cidrs = new[] { "10.244.2.0/24", "192.168.1.64/26" },
            gateways = new[] { "10.244.2.1", "192.168.1.65" },
        });
        await ConditionAsync(world, "node2", "UnsafeBlock", "block 192.168.1.64/26 refused: it overlaps the subnet 192.168.1.0/24 of the node's address 192.168.1.12 on eth0");
        await ConditionAsync(world, "node1", "PeersSkipped", "NodeSubnet pods.node2: block 192.168.1.64/26 refused");
        var bridge = world.Node("node2").Exec("ip", "-4", "addr", "show", "dev", "trellis0");
        Assert.Contains("10.244.2.1/24", bridge);
        Assert.DoesNotContain("192.168.1.", bridge);
        Assert.DoesNotContain("192.168.1.64", File.ReadAllText(world.ConflistPath("node2")));
        Assert.DoesNotContain("192.168.1.64/26", world.Routes("node1"));
        Assert.Contains("10.244.2.0/24 via 192.168.1.12 dev eth0 proto 148", world.Routes("node1"));
        Assert.True(world.Node("node2").Ping(AgentWorld.ApiAddress), "node2 lost the API server");
        await world.EventuallyAsync(async () => (await world.EventsAsync()).Items.Any(e => e.InvolvedObject.Name == "pods.node2" && e.Reason == "UnsafeBlock"),
            "a Warning Event about pods.node2");
    }

    [Fact]
    public async Task A_route_of_another_owner_in_the_way_is_retried_with_backoff_not_every_two_seconds()
    {
        await using var world = await TwoNodesAsync(output);
        // Every full pass runs nft once; a witness before the real nft counts them. With a ten-minute resync, every
        // full pass node1 makes during the test is a retry of a failed one.
        var witness = Path.Combine(world.Directory, "witness");
        Directory.CreateDirectory(witness);
        var calls = Path.Combine(world.Directory, "nft-calls");
        var nft = Shell.RunChecked("sh", "-c", "command -v nft").Trim();
        File.WriteAllText(Path.Combine(witness, "nft"), $"#!/bin/sh\necho run >> {calls}\nexec {nft} \"$@\"\n");
        File.SetUnixFileMode(Path.Combine(witness, "nft"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        world.StartAgent("node1", resyncPeriod: "10m",
            environment: new Dictionary<string, string> { ["PATH"] = $"{witness}:{Environment.GetEnvironmentVariable("PATH")}" });
        await world.WaitProgrammedAsync("node1");

        world.Node("node1").Exec("ip", "route", "add", "10.244.3.0/24", "via", "192.168.1.100", "proto", "static");
        await world.CreateSubnetAsync("node3", "192.168.1.13", RoutingModes.Direct, "10.244.3.0/24");
        await ConditionAsync(world, "node1", "KernelError", "route to 10.244.3.0/24 is held by another owner");
        int Runs() => File.Exists(calls) ? File.ReadAllLines(calls).Length : 0;
        int before = Runs();
        await Task.Delay(TimeSpan.FromSeconds(15));
        int retries = Runs() - before;
        output.WriteLine($"{retries} full passes in 15 s while the route was in the way");
        // Retrying every 2 s would be 7 or 8 passes; backing off from 2 s doubling is at most 4.
        Assert.InRange(retries, 1, 4);
        Assert.Contains("a full pass again in", world.AgentLog("node1"));

        // The owner takes its route away; the next change of the NodeSubnets programs the block.
        world.Node("node1").Exec("ip", "route", "del", "10.244.3.0/24");
        await world.PatchSubnetSpecAsync("node3", new { mtu = 1400 });
        await world.EventuallyAsync(() => world.Routes("node1").Contains("10.244.3.0/24 via 192.168.1.13 dev eth0 proto 148"), "node1 routes node3's block");
        await world.WaitProgrammedAsync("node1");
    }
}
