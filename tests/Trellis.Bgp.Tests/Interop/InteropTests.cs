using System.Net;
using System.Net.Sockets;
using Trellis.Addressing;
using Trellis.Bgp.Session;
using Trellis.Bgp.Speaker;
using Trellis.Netlink;
using Trellis.Testing;
using Xunit;

namespace Trellis.Bgp.Tests.Interop;

/// <summary>
/// The speaker against a real router from Debian, each test in its own namespaces (a switch, the
/// router at 192.168.1.1 / fd00:1::1, the node at .11 / ::11). Timers are short (hold 3 s) so
/// failures and restarts take seconds; the three routers' classes run in parallel.
/// </summary>
public abstract class InteropTests
{
    protected const uint RouterAsn = 65000;
    protected const uint NodeAsn = 64512;
    protected static readonly IPAddress RouterV4 = IPAddress.Parse("192.168.1.1");
    protected static readonly IPAddress RouterV6 = IPAddress.Parse("fd00:1::1");
    protected static readonly IPAddress NodeV4 = IPAddress.Parse("192.168.1.11");
    protected static readonly IPAddress NodeV6 = IPAddress.Parse("fd00:1::11");
    protected static readonly Cidr Block = Cidr.Parse("10.244.1.0/24");
    protected static readonly Cidr ExtraBlock = Cidr.Parse("10.244.9.0/24");
    protected static readonly Cidr BlockV6 = Cidr.Parse("fd00:10:244:1::/64");
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(25);
    private static readonly System.Collections.Concurrent.ConcurrentBag<BgpSpeaker> s_speakers = [];

    protected abstract RouterDaemon CreateRouter(NetworkNamespace ns, RouterSetup setup);

    [Fact]
    public async Task Session_up_every_block_learned_with_the_node_next_hop_then_withdrawn()
    {
        using var world = Build();
        await using var speaker = world.StartSpeaker(Configuration(RouterV4, RouterAsn, [Block, ExtraBlock, BlockV6]));

        WaitForRoutes(world.Router, [(Block, NodeV4), (ExtraBlock, NodeV4), (BlockV6, NodeV6)]);
        var status = Assert.Single(speaker.Status);
        Assert.Equal(SessionState.Established, status.State);
        Assert.Equal(3, status.PrefixesSent);
        Assert.NotNull(status.EstablishedAt);
        Assert.Null(status.LastError);
        AfterLearning(world.Router);

        speaker.Apply(Configuration(RouterV4, RouterAsn, [Block]));
        WaitForRoutes(world.Router, [(Block, NodeV4)]);
        Assert.Equal(SessionState.Established, Assert.Single(speaker.Status).State);
    }

    /// <summary>A router-specific look at what it learned (FRR: the kernel of the router namespace).</summary>
    protected virtual void AfterLearning(RouterDaemon router)
    {
    }

    [Fact]
    public async Task Router_restarted_session_and_routes_come_back()
    {
        using var world = Build();
        await using var speaker = world.StartSpeaker(Configuration(RouterV4, RouterAsn, [Block, BlockV6]));
        WaitForRoutes(world.Router, [(Block, NodeV4), (BlockV6, NodeV6)]);

        world.Router.Stop();
        Eventually.True(() => speaker.Status[0].State != SessionState.Established, Patience, () => $"session down: {speaker.Status[0]}");
        world.Router.Start();

        WaitForRoutes(world.Router, [(Block, NodeV4), (BlockV6, NodeV6)]);
        WaitForState(speaker, SessionState.Established);
    }

    [Fact]
    public async Task Speaker_restarted_with_graceful_restart_keeps_routes_then_refreshes_them()
    {
        using var world = Build();
        var speaker = world.StartSpeaker(Configuration(RouterV4, RouterAsn, [Block, ExtraBlock, BlockV6]));
        WaitForRoutes(world.Router, [(Block, NodeV4), (ExtraBlock, NodeV4), (BlockV6, NodeV6)]);

        // The agent goes away without a word: the router keeps the routes, marked stale.
        await speaker.StopAsync(keepRoutes: true);
        Eventually.True(() => world.Router.NeighborState(NodeV4) is not "Established" and not "ESTABLISHED" and not "established",
            Patience, () => $"{world.Router.Name} noticing the restart: {world.Router.NeighborState(NodeV4)}");
        var kept = world.Router.Routes();
        Assert.Equal(3, kept.Count);
        if (world.Router.ShowsStale) Assert.All(kept, route => Assert.True(route.Stale, $"{route} is stale"));

        // It comes back without the extra block: End-of-RIB makes the router drop that stale route
        // at once rather than when the 120 s restart time runs out.
        await using var restarted = world.StartSpeaker(Configuration(RouterV4, RouterAsn, [Block, BlockV6]));
        WaitForRoutes(world.Router, [(Block, NodeV4), (BlockV6, NodeV6)]);
        Eventually.True(() => world.Router.Routes().All(r => !r.Stale), Patience, () => $"fresh routes: {Describe(world.Router.Routes())}");
    }

    [Fact]
    public async Task Wrong_asn_is_refused_with_a_clear_status()
    {
        using var world = Build();
        await using var speaker = world.StartSpeaker(Configuration(RouterV4, 65099, [Block]));

        Eventually.True(() => speaker.Status[0].LastError?.Contains("wrong ASN") == true, Patience, () => $"{speaker.Status[0]}");
        var status = speaker.Status[0];
        Assert.Contains("says it is AS 65000, but AS 65099 is configured", status.LastError);
        Assert.NotEqual(SessionState.Established, status.State);
        Assert.Empty(world.Router.Routes());
    }

    [Fact]
    public async Task Wrong_password_is_refused_with_a_clear_status_and_the_right_one_works()
    {
        using var world = Build(password: "router-secret");
        await using var speaker = world.StartSpeaker(Configuration(RouterV4, RouterAsn, [Block], password: "wrong-secret"));

        Eventually.True(() => speaker.Status[0].LastError?.Contains("TCP MD5") == true, Patience, () => $"{speaker.Status[0]}");
        Assert.NotEqual(SessionState.Established, speaker.Status[0].State);
        Assert.Empty(world.Router.Routes());

        speaker.Apply(Configuration(RouterV4, RouterAsn, [Block], password: "router-secret"));
        WaitForRoutes(world.Router, [(Block, NodeV4)]);
        WaitForState(speaker, SessionState.Established);
    }

    [Fact]
    public async Task Ibgp_over_ipv6_transport_carries_both_families()
    {
        using var world = Build(routerAsn: NodeAsn, neighborAddress: NodeV6);
        await using var speaker = world.StartSpeaker(Configuration(RouterV6, NodeAsn, [Block, BlockV6]));

        WaitForRoutes(world.Router, [(Block, NodeV4), (BlockV6, NodeV6)]);
        Assert.Equal(SessionState.Established, speaker.Status[0].State);
    }

    protected static BgpConfiguration Configuration(IPAddress peer, uint peerAsn, Cidr[] prefixes, string? password = null) =>
        new(NodeAsn, NodeV4,
            [new BgpPeer(peer, peerAsn, Password: password, HoldTime: TimeSpan.FromSeconds(3), GracefulRestartTime: TimeSpan.FromSeconds(120))],
            prefixes, NodeV4, NodeV6);

    protected void WaitForRoutes(RouterDaemon router, (Cidr Prefix, IPAddress NextHop)[] expected)
    {
        var wanted = expected.Select(e => $"{e.Prefix} via {e.NextHop}").Order().ToList();
        Eventually.True(() => Describe(router.Routes().Select(r => r with { Stale = false }).ToList()) == string.Join(", ", wanted), Patience,
            () => $"{router.Name} holding exactly {string.Join(", ", wanted)}; it holds {Describe(SafeRoutes(router))} (neighbour {SafeState(router)}; speaker {string.Join(", ", s_speakers.Select(s => string.Join(" ", s.Status)))})");
    }

    private static void WaitForState(BgpSpeaker speaker, SessionState state) =>
        Eventually.True(() => speaker.Status[0].State == state, Patience, () => $"{state}: {speaker.Status[0]}");

    private static string Describe(IReadOnlyList<LearnedRoute> routes) =>
        string.Join(", ", routes.Select(r => $"{r.Prefix} via {r.NextHop}{(r.Stale ? " (stale)" : "")}").Order());

    private static IReadOnlyList<LearnedRoute> SafeRoutes(RouterDaemon router)
    {
        try { return router.Routes(); } catch (Exception) { return []; }
    }

    private static string SafeState(RouterDaemon router)
    {
        try { return router.NeighborState(NodeV4); } catch (Exception error) { return error.Message; }
    }

    private World Build(uint routerAsn = RouterAsn, string? password = null, IPAddress? neighborAddress = null)
    {
        var world = new World();
        try
        {
            var segment = world.Topology.AddSegment("sw");
            var routerNs = world.Topology.AddNode("rtr", segment, "192.168.1.1/24");
            routerNs.Exec("ip", "addr", "add", "fd00:1::1/64", "dev", "eth0", "nodad");
            world.Node = world.Topology.AddNode("node", segment, "192.168.1.11/24");
            world.Node.Exec("ip", "addr", "add", "fd00:1::11/64", "dev", "eth0", "nodad");
            world.Router = CreateRouter(routerNs, new RouterSetup(routerAsn, RouterV4, [new RouterNeighbor(neighborAddress ?? NodeV4, NodeAsn, password)]));
            world.Router.Start();
            return world;
        }
        catch
        {
            world.Dispose();
            throw;
        }
    }

    protected sealed class World : IDisposable
    {
        public TestTopology Topology { get; } = new();
        public NetworkNamespace Node { get; set; } = null!;
        public RouterDaemon Router { get; set; } = null!;

        public BgpSpeaker StartSpeaker(BgpConfiguration configuration)
        {
            var node = Node;
            var speaker = BgpSpeaker.Start(new BgpSpeakerOptions
            {
                SocketFactory = family => NetworkNamespaceRunner.Run(node.Path, () => new Socket(family, SocketType.Stream, ProtocolType.Tcp)),
                ConnectRetryMinimum = TimeSpan.FromMilliseconds(500),
                ConnectRetryMaximum = TimeSpan.FromSeconds(2),
                ConnectTimeout = TimeSpan.FromSeconds(2),
                OpenHoldTime = TimeSpan.FromSeconds(10),
            });
            speaker.Apply(configuration);
            s_speakers.Add(speaker);
            Eventually.True(() => speaker.Status.Count > 0, TimeSpan.FromSeconds(5), () => "the speaker taking its configuration");
            return speaker;
        }

        public void Dispose()
        {
            Router?.Dispose();
            Topology.Dispose();
        }
    }
}

public sealed class FrrInteropTests : InteropTests
{
    protected override RouterDaemon CreateRouter(NetworkNamespace ns, RouterSetup setup) => new FrrRouter(ns, setup);

    protected override void AfterLearning(RouterDaemon router)
    {
        // zebra put what bgpd learned into the router's kernel, through the node.
        var frr = (FrrRouter)router;
        static bool Holds(string table, Cidr prefix, IPAddress via) =>
            table.Split('\n').Any(line => line.StartsWith($"{prefix} ") && line.Contains($" via {via} "));
        Eventually.True(() => Holds(frr.KernelRoutes(), Block, NodeV4) && Holds(frr.KernelRoutes(), ExtraBlock, NodeV4) && Holds(frr.KernelRoutes("-6"), BlockV6, NodeV6),
            TimeSpan.FromSeconds(10), () => $"kernel routes: {frr.KernelRoutes()} {frr.KernelRoutes("-6")}");
    }
}

public sealed class BirdInteropTests : InteropTests
{
    protected override RouterDaemon CreateRouter(NetworkNamespace ns, RouterSetup setup) => new BirdRouter(ns, setup);
}

public sealed class GoBgpInteropTests : InteropTests
{
    protected override RouterDaemon CreateRouter(NetworkNamespace ns, RouterSetup setup) => new GoBgpRouter(ns, setup);
}
