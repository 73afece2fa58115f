using System.Net;
using k8s;
using k8s.Models;
using Trellis.Crds;
using Trellis.Testing;
using Trellis.Testing.Routers;
using Xunit;
using Xunit.Abstractions;

namespace Trellis.NodeAgent.Tests.EndToEnd;

/// <summary>
/// Agents as ServiceAccount trellis-agent under exactly the RBAC of config/rbac, through a realistic life:
/// BGP sessions to a real router reported in status, NetworkPolicy enforced, a block refused with an Event
/// that repeats, a NodeSubnet deleted. They are refused nothing (no verb missing) and use every verb they
/// are granted (no verb surplus).
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class AgentRbacUsageTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Agents_are_refused_nothing_and_hold_no_permission_they_do_not_use()
    {
        await using var world = new AgentWorld(output);
        var underlay = world.Topology.AddSegment("underlay", "192.168.1.1/24");
        underlay.Namespace.Exec("sysctl", "-qw", "net.ipv4.ip_forward=1");
        var nodes = new[] { ("node1", "192.168.1.11", "10.244.1.0/24"), ("node2", "192.168.1.12", "10.244.2.0/24") };
        foreach (var (name, address, _) in nodes) world.AddNode(name, underlay, $"{address}/24", "192.168.1.1");
        await world.StartApiServerAsync(underlay);
        await world.RunAgentsAsServiceAccountAsync();
        using var router = new FrrRouter(underlay.Namespace, new RouterSetup(BgpModeTests.RouterAsn, IPAddress.Parse("192.168.1.1"),
            nodes.Select(n => new RouterNeighbor(IPAddress.Parse(n.Item2), BgpModeTests.NodeAsn)).ToList()));
        router.Start();
        foreach (var (name, address, block) in nodes) await BgpModeTests.CreateBgpSubnetAsync(world, name, address, block);
        foreach (var (name, _, _) in nodes) world.StartAgent(name);
        foreach (var (name, _, _) in nodes) await world.WaitProgrammedAsync(name);
        // Status: the BGP speaker's sessions, patched into the NodeSubnet.
        await world.EventuallyAsync(async () => (await world.GetSubnetAsync("node1")).Status?.BgpSessions == "1/1", "node1 reports its session");

        // NetworkPolicy: the agents watch policies, namespaces and pods, and write their table.
        await world.Client.NetworkingV1.CreateNamespacedNetworkPolicyAsync(new V1NetworkPolicy
        {
            Metadata = new V1ObjectMeta { Name = "deny-ingress" },
            Spec = new V1NetworkPolicySpec { PodSelector = new V1LabelSelector(), PolicyTypes = ["Ingress"] },
        }, "default");
        await world.EventuallyAsync(() => world.Node("node1").Exec("nft", "list", "tables").Contains("trellis-policy"), "node1 enforces NetworkPolicy");

        // A block over the node's own segment is refused with an Event; refused again after a fix, the Event is bumped.
        object hostile = new
        {
            cidrs = new[] { "10.244.2.0/24", "192.168.1.64/26" }, gateways = new[] { "10.244.2.1", "192.168.1.65" },
            networkCIDRs = new[] { "10.244.0.0/16", "192.168.0.0/16" },
        };
        object fixedSpec = new { cidrs = new[] { "10.244.2.0/24" }, gateways = new[] { "10.244.2.1" } };
        await world.PatchSubnetSpecAsync("node2", hostile);
        await world.EventuallyAsync(async () => (await RefusalAsync(world))?.Count == 1, "a Warning Event about pods.node2");
        await world.PatchSubnetSpecAsync("node2", fixedSpec);
        await world.WaitProgrammedAsync("node2");
        await world.PatchSubnetSpecAsync("node2", hostile);
        await world.EventuallyAsync(async () => (await RefusalAsync(world))?.Count == 2, "the Event about pods.node2 counted twice");

        await world.DeleteSubnetAsync("node2");
        await world.EventuallyAsync(() => !router.KernelRoutes().Contains("10.244.2.0/24"), "the router drops node2's block");

        TrellisRbac.AssertRefusedNothingAndUsedEverything(world.AuthorizationLog, "trellis-agent", "agent.yaml", new Dictionary<string, string>());
    }

    private static async Task<Corev1Event?> RefusalAsync(AgentWorld world) =>
        (await world.EventsAsync()).Items.FirstOrDefault(e => e.InvolvedObject.Name == "pods.node2" && e.Reason == "UnsafeBlock" && e.ReportingInstance == "node2");
}
