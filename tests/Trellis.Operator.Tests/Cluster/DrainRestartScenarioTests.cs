using System.Collections.Concurrent;
using System.Net;
using k8s.Autorest;
using k8s.Models;
using Trellis.Crds;
using Xunit;

namespace Trellis.Operator.Tests.Cluster;

/// <summary>
/// An extra block's way back to the pool with the operator stopped and started again every few hundred milliseconds
/// throughout: the node grows, the block drains, a pod gets into it before the agent closes it (so it opens again), it
/// drains again and is released, and the other node grows into the pool. The test plays both agents, as the real one
/// reports: usage for exactly the spec it saw, and "drained" only for a block it has closed with nothing in use. A watcher
/// checks all along that no block is in two NodeSubnets and that no block with an address in use leaves its node.
/// </summary>
public sealed class DrainRestartScenarioTests
{
    private const string Network = "default";
    private const int Capacity = 13;

    [Fact]
    public async Task An_operator_restarted_every_few_hundred_milliseconds_through_a_drain_never_takes_a_block_in_use_nor_gives_one_to_two_nodes()
    {
        await using var cluster = await OperatorCluster.StartAsync();
        await cluster.Networks.CreateAsync(new PodNetwork
        {
            Metadata = new V1ObjectMeta { Name = Network },
            Spec = new PodNetworkSpec
            {
                Cidrs = ["10.250.0.0/26"],
                BlockSize = new BlockSize { IPv4 = 28 },
                MaxBlocksPerNode = 2,
                BlockGrowth = new BlockGrowth { MinFreeAddresses = 2, MinFreePercent = 0, ReleaseEmptyAfterSeconds = 0 },
            },
        });
        string[] nodes = ["node-1", "node-2"];
        for (int i = 0; i < nodes.Length; i++) await cluster.CreateNodeAsync(nodes[i], $"192.168.7.{i + 1}");
        var agents = nodes.ToDictionary(n => n, n => new FakeAgent(cluster, n));
        var violations = new ConcurrentQueue<string>();
        int restarts = 0;
        using var stop = new CancellationTokenSource();

        var current = cluster.StartOperator();
        var restarter = Task.Run(async () =>
        {
            var random = new Random(14);
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(random.Next(300, 700));
                await cluster.StopAsync(current);
                current = cluster.StartOperator(identity: $"operator-{++restarts}");
            }
        });
        var reporting = agents.Values.Select(a => a.RunAsync(stop.Token)).ToList();
        var watcher = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var subnets = await cluster.SubnetsAsync(Network);
                foreach (var twice in subnets.SelectMany(s => s.Spec.Cidrs.Select(c => (Cidr: c, s.Spec.NodeName))).GroupBy(x => x.Cidr).Where(g => g.Count() > 1))
                    violations.Enqueue($"{twice.Key} is held by {string.Join(" and ", twice.Select(x => x.NodeName))}");
                foreach (var subnet in subnets)
                    foreach (var block in agents[subnet.Spec.NodeName].BlocksInUse())
                        if (!subnet.Spec.Cidrs.Contains(block))
                            violations.Enqueue($"{block} left {subnet.Spec.NodeName} with an address in use");
                await Task.Delay(50);
            }
        });
        try
        {
            var first = await BlocksEventuallyAsync(cluster, "node-1", b => b.Count == 1, "node-1 gets its first block");
            await BlocksEventuallyAsync(cluster, "node-2", b => b.Count == 1, "node-2 gets its first block");
            var one = agents["node-1"];

            // Nearly full: node-1 gets a second block.
            one.Use(first[0], 12);
            var grown = await BlocksEventuallyAsync(cluster, "node-1", b => b.Count == 2, "node-1 grows a second block");
            var extra = grown[1];

            // Emptier again: the extra block drains, but the agent has not closed it yet, and a pod gets in first.
            one.Closes = false;
            one.Use(first[0], 5);
            await SubnetEventuallyAsync(cluster, "node-1", s => s.Spec.Draining.Contains(extra) && s.Status?.ObservedGeneration == s.Metadata.Generation
                && s.Status.Blocks.Any(b => b.Cidr == extra && b.AddressesInUse == 0 && !b.Drained), $"{extra} drains, reported empty but not closed");
            // Empty is not drained: a block the agent has not closed yet stays with its node, however long the operator looks.
            await Task.Delay(1_000);
            one.Use(extra, 1);
            await SubnetEventuallyAsync(cluster, "node-1", s => s.Spec.Draining.Count == 0 && s.Spec.Cidrs.Contains(extra),
                $"{extra}, with a pod in it, opens again");

            // The pod goes; this time the agent closes the block, reports it drained, and the operator releases it.
            one.Closes = true;
            one.Use(extra, 0);
            await BlocksEventuallyAsync(cluster, "node-1", b => b.SequenceEqual(first), $"{extra} is released");

            // node-2 grows into the pool the released block went back to.
            var two = await BlocksEventuallyAsync(cluster, "node-2", b => b.Count == 1, "node-2 still has one block");
            agents["node-2"].Use(two[0], 12);
            await BlocksEventuallyAsync(cluster, "node-2", b => b.Count == 2, "node-2 grows a second block");
            await Task.Delay(1_500);
        }
        finally
        {
            await stop.CancelAsync();
            await restarter;
            await Task.WhenAll(reporting);
            await watcher;
        }
        Assert.True(restarts >= 3, $"the operator was restarted only {restarts} times: the attack did not run");
        Assert.Empty(violations.Distinct());
    }

    private static async Task<IReadOnlyList<string>> BlocksEventuallyAsync(OperatorCluster cluster, string node, Func<IReadOnlyList<string>, bool> check, string what) =>
        (await SubnetEventuallyAsync(cluster, node, s => check(s.Spec.Cidrs.ToList()), what))!.Spec.Cidrs.ToList();

    private static Task<NodeSubnet?> SubnetEventuallyAsync(OperatorCluster cluster, string node, Func<NodeSubnet, bool> check, string what) =>
        OperatorCluster.EventuallyAsync(() => ReadSubnetAsync(cluster, node), s => s is not null && check(s), what, TimeSpan.FromSeconds(60));

    /// <summary>The node's NodeSubnet, or null before the operator has made it.</summary>
    private static async Task<NodeSubnet?> ReadSubnetAsync(OperatorCluster cluster, string node)
    {
        try
        {
            return await cluster.Subnets.GetAsync(NodeSubnet.NameFor(Network, node));
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>
    /// One node's agent as the operator sees it: it reports the addresses in use in each block of the spec it last saw, and
    /// "drained" for a draining block only when it <see cref="Closes"/> blocks and none of the block's addresses is in use.
    /// </summary>
    private sealed class FakeAgent(OperatorCluster cluster, string node)
    {
        private readonly ConcurrentDictionary<string, int> _inUse = new();

        public volatile bool Closes = true;

        public void Use(string block, int addresses) => _inUse[block] = addresses;

        public IReadOnlyList<string> BlocksInUse() => _inUse.Where(b => b.Value > 0).Select(b => b.Key).ToList();

        public async Task RunAsync(CancellationToken stop)
        {
            var name = NodeSubnet.NameFor(Network, node);
            var since = DateTime.UtcNow.AddMinutes(-1);
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var subnet = await cluster.Subnets.GetAsync(name, CancellationToken.None);
                    var blocks = subnet.Spec.Cidrs.Select(cidr =>
                    {
                        int used = _inUse.GetValueOrDefault(cidr);
                        return new BlockUsageStatus
                        {
                            Cidr = cidr, AddressesInUse = used, AddressCapacity = Capacity, EmptySince = used == 0 ? since : null,
                            Drained = Closes && used == 0 && subnet.Spec.Draining.Contains(cidr),
                        };
                    }).ToList();
                    var status = subnet.Status;
                    bool same = status?.ObservedGeneration == subnet.Metadata.Generation && status.Blocks is { } old && old.Count == blocks.Count
                        && old.Zip(blocks).All(p => p.First.Cidr == p.Second.Cidr && p.First.AddressesInUse == p.Second.AddressesInUse && p.First.Drained == p.Second.Drained);
                    if (!same)
                    {
                        subnet.Status = new NodeSubnetStatus { ObservedGeneration = subnet.Metadata.Generation, Blocks = blocks };
                        await cluster.Subnets.ReplaceStatusAsync(subnet, CancellationToken.None);
                    }
                }
                catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.NotFound)
                {
                    // The operator wrote in between, or has not made the NodeSubnet yet: look again.
                }
                await Task.Delay(100, CancellationToken.None);
            }
        }
    }
}
