using k8s;
using k8s.Models;
using Trellis.ControllerRuntime.Clients;
using Trellis.ControllerRuntime.Controllers;
using Trellis.ControllerRuntime.Informers;
using Trellis.ControllerRuntime.Queue;
using Trellis.ControllerRuntime.Tests.Cluster;
using Trellis.ControllerRuntime.Updates;
using Xunit;

namespace Trellis.ControllerRuntime.Tests.Controllers;

public sealed class ControllerEndToEndTests
{
    private const string Seen = "test/seen-label";

    private static string? ValueOf(IDictionary<string, string>? map, string key) =>
        map is not null && map.TryGetValue(key, out var value) ? value : null;

    /// <summary>Copies each node's "color" label into an annotation: a minimal level-triggered controller.</summary>
    private sealed class ColorReconciler(IKubernetes client, Informer<V1Node> nodes) : IReconciler<string>
    {
        public async Task<ReconcileResult> ReconcileAsync(string key, CancellationToken cancellationToken)
        {
            if (nodes.Get(key) is null)
                return ReconcileResult.Done;
            await ConflictRetry.UpdateAsync(
                ct => client.CoreV1.ReadNodeAsync(key, cancellationToken: ct),
                node =>
                {
                    var color = ValueOf(node.Metadata.Labels, "color") ?? "";
                    node.Metadata.Annotations ??= new Dictionary<string, string>();
                    if (ValueOf(node.Metadata.Annotations, Seen) == color)
                        return false;
                    node.Metadata.Annotations[Seen] = color;
                    return true;
                },
                (node, ct) => client.CoreV1.ReplaceNodeAsync(node, key, cancellationToken: ct),
                cancellationToken);
            return ReconcileResult.Done;
        }
    }

    [Fact]
    public async Task InformerFeedsTheQueueAndTheControllerConverges()
    {
        await using var cluster = await TestCluster.StartAsync();
        await cluster.CreateNodeAsync("node-a", new Dictionary<string, string> { ["color"] = "red" });
        var nodes = new Informer<V1Node>(ResourceClients.Nodes(cluster.Api));
        var queue = new WorkQueue<string>();
        nodes.Added += n => queue.Add(ObjectKey.KeyOf(n));
        nodes.Updated += (_, n) => queue.Add(ObjectKey.KeyOf(n));
        nodes.Deleted += n => queue.Add(ObjectKey.KeyOf(n));
        var controller = new Controller<string>(queue, new ColorReconciler(cluster.Client, nodes), new ControllerOptions { Name = "colors", Workers = 2 });
        using var stop = new CancellationTokenSource();
        var informing = nodes.RunAsync(stop.Token);
        await nodes.WaitForSyncAsync(stop.Token).WaitAsync(TestCluster.Patience);
        var controlling = controller.RunAsync(stop.Token);

        async Task<string?> SeenColor(string name) =>
            ValueOf((await cluster.Client.CoreV1.ReadNodeAsync(name)).Metadata.Annotations, Seen);

        await TestCluster.Eventually(async () => await SeenColor("node-a") == "red", "node-a's color is copied");
        await cluster.CreateNodeAsync("node-b", new Dictionary<string, string> { ["color"] = "blue" });
        await cluster.LabelNodeAsync("node-a", "color", "green");
        await TestCluster.Eventually(async () => await SeenColor("node-b") == "blue", "node-b's color is copied");
        await TestCluster.Eventually(async () => await SeenColor("node-a") == "green", "node-a's new color is copied");

        stop.Cancel();
        await Task.WhenAll(informing, controlling).WaitAsync(TestCluster.Patience);
    }
}
