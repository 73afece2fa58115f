using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Trellis.ApiServer.Tests.Server;

public sealed class NodeTests
{
    private static V1Node Node(string name, IDictionary<string, string>? labels = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Labels = labels },
        Spec = new V1NodeSpec { PodCIDR = "10.244.1.0/24" },
    };

    [Fact]
    public async Task CreateGetListDelete()
    {
        await using var t = await TestServer.StartAsync();
        var created = await t.Client.CoreV1.CreateNodeAsync(Node("node-a"));
        Assert.False(string.IsNullOrEmpty(created.Metadata.Uid));
        Assert.NotNull(created.Metadata.CreationTimestamp);
        Assert.Equal(1, created.Metadata.Generation);
        Assert.Equal("Node", created.Kind);
        Assert.Equal("v1", created.ApiVersion);

        var read = await t.Client.CoreV1.ReadNodeAsync("node-a");
        Assert.Equal(created.Metadata.ResourceVersion, read.Metadata.ResourceVersion);
        Assert.Equal("10.244.1.0/24", read.Spec.PodCIDR);

        var list = await t.Client.CoreV1.ListNodeAsync();
        Assert.Equal("node-a", Assert.Single(list.Items).Metadata.Name);
        Assert.True(long.Parse(list.Metadata.ResourceVersion) >= long.Parse(created.Metadata.ResourceVersion));

        await t.Client.CoreV1.DeleteNodeAsync("node-a");
        var missing = await Assert.ThrowsAsync<HttpOperationException>(() => t.Client.CoreV1.ReadNodeAsync("node-a"));
        Assert.Equal(HttpStatusCode.NotFound, missing.Response.StatusCode);
        Assert.Contains("nodes \\\"node-a\\\" not found", missing.Response.Content);
        var deleteMissing = await Assert.ThrowsAsync<HttpOperationException>(() => t.Client.CoreV1.DeleteNodeAsync("node-a"));
        Assert.Equal(HttpStatusCode.NotFound, deleteMissing.Response.StatusCode);
    }

    [Fact]
    public async Task CreatingAnExistingNodeIsAlreadyExists()
    {
        await using var t = await TestServer.StartAsync();
        await t.Client.CoreV1.CreateNodeAsync(Node("node-a"));
        var e = await Assert.ThrowsAsync<HttpOperationException>(() => t.Client.CoreV1.CreateNodeAsync(Node("node-a")));
        Assert.Equal(HttpStatusCode.Conflict, e.Response.StatusCode);
        Assert.Contains("AlreadyExists", e.Response.Content);
    }

    [Fact]
    public async Task StaleUpdateIsConflictAndFreshUpdateBumpsGeneration()
    {
        await using var t = await TestServer.StartAsync();
        var created = await t.Client.CoreV1.CreateNodeAsync(Node("node-a"));
        created.Spec.PodCIDR = "10.244.2.0/24";
        var updated = await t.Client.CoreV1.ReplaceNodeAsync(created, "node-a");
        Assert.Equal(2, updated.Metadata.Generation);
        Assert.NotEqual(created.Metadata.ResourceVersion, updated.Metadata.ResourceVersion);

        created.Spec.PodCIDR = "10.244.3.0/24";
        var e = await Assert.ThrowsAsync<HttpOperationException>(() => t.Client.CoreV1.ReplaceNodeAsync(created, "node-a"));
        Assert.Equal(HttpStatusCode.Conflict, e.Response.StatusCode);
        Assert.Contains("the object has been modified; please apply your changes to the latest version and try again", e.Response.Content);
    }

    [Fact]
    public async Task LabelChangesDoNotBumpGenerationAndNoOpKeepsResourceVersion()
    {
        await using var t = await TestServer.StartAsync();
        var created = await t.Client.CoreV1.CreateNodeAsync(Node("node-a"));
        created.Metadata.Labels = new Dictionary<string, string> { ["zone"] = "a" };
        var labelled = await t.Client.CoreV1.ReplaceNodeAsync(created, "node-a");
        Assert.Equal(1, labelled.Metadata.Generation);
        var again = await t.Client.CoreV1.ReplaceNodeAsync(labelled, "node-a");
        Assert.Equal(labelled.Metadata.ResourceVersion, again.Metadata.ResourceVersion);
    }

    [Fact]
    public async Task StatusSubresourceChangesOnlyStatus()
    {
        await using var t = await TestServer.StartAsync();
        var created = await t.Client.CoreV1.CreateNodeAsync(Node("node-a"));
        created.Status = new V1NodeStatus { Conditions = [new V1NodeCondition { Type = "Ready", Status = "True" }] };
        created.Spec.PodCIDR = "10.9.9.0/24";
        var afterStatus = await t.Client.CoreV1.ReplaceNodeStatusAsync(created, "node-a");
        Assert.Equal("True", afterStatus.Status.Conditions.Single().Status);
        Assert.Equal("10.244.1.0/24", afterStatus.Spec.PodCIDR);
        Assert.Equal(1, afterStatus.Metadata.Generation);

        afterStatus.Status.Conditions[0].Status = "False";
        var afterMain = await t.Client.CoreV1.ReplaceNodeAsync(afterStatus, "node-a");
        Assert.Equal("True", afterMain.Status.Conditions.Single().Status);
        Assert.Equal(afterStatus.Metadata.ResourceVersion, afterMain.Metadata.ResourceVersion);
    }

    [Fact]
    public async Task LabelSelectorsFilterLists()
    {
        await using var t = await TestServer.StartAsync();
        await t.Client.CoreV1.CreateNodeAsync(Node("a", new Dictionary<string, string> { ["zone"] = "east", ["gpu"] = "yes" }));
        await t.Client.CoreV1.CreateNodeAsync(Node("b", new Dictionary<string, string> { ["zone"] = "west" }));
        await t.Client.CoreV1.CreateNodeAsync(Node("c"));

        async Task<string[]> Names(string selector) =>
            (await t.Client.CoreV1.ListNodeAsync(labelSelector: selector)).Items.Select(n => n.Metadata.Name).Order().ToArray();

        Assert.Equal(["a"], await Names("zone=east"));
        Assert.Equal(["a"], await Names("zone==east,gpu"));
        Assert.Equal(["b", "c"], await Names("zone!=east"));
        Assert.Equal(["a", "b"], await Names("zone in (east,west)"));
        Assert.Equal(["c"], await Names("zone notin (east,west)"));
        Assert.Equal(["b", "c"], await Names("!gpu"));
        Assert.Equal(["b"], (await t.Client.CoreV1.ListNodeAsync(fieldSelector: "metadata.name=b")).Items.Select(n => n.Metadata.Name).ToArray());
        var bad = await Assert.ThrowsAsync<HttpOperationException>(() => t.Client.CoreV1.ListNodeAsync(labelSelector: "zone in east"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.Response.StatusCode);
    }

    [Fact]
    public async Task ListPagesWithLimitAndContinue()
    {
        await using var t = await TestServer.StartAsync();
        for (var i = 0; i < 7; i++) await t.Client.CoreV1.CreateNodeAsync(Node($"n{i}"));
        var names = new List<string>();
        string? next = null;
        var pages = 0;
        do
        {
            var page = await t.Client.CoreV1.ListNodeAsync(limit: 3, continueParameter: next);
            names.AddRange(page.Items.Select(n => n.Metadata.Name));
            next = page.Metadata.ContinueProperty;
            pages++;
        } while (!string.IsNullOrEmpty(next));
        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"n{i}"), names);
    }

    [Fact]
    public async Task MergeAndJsonPatch()
    {
        await using var t = await TestServer.StartAsync();
        await t.Client.CoreV1.CreateNodeAsync(Node("node-a", new Dictionary<string, string> { ["keep"] = "1", ["drop"] = "2" }));
        var merged = await t.Client.CoreV1.PatchNodeAsync(
            new V1Patch("""{"metadata":{"labels":{"drop":null,"new":"3"}},"spec":{"unschedulable":true}}""", V1Patch.PatchType.MergePatch), "node-a");
        Assert.Equal(new Dictionary<string, string> { ["keep"] = "1", ["new"] = "3" }, merged.Metadata.Labels);
        Assert.True(merged.Spec.Unschedulable);
        Assert.Equal(2, merged.Metadata.Generation);

        var patched = await t.Client.CoreV1.PatchNodeAsync(
            new V1Patch("""[{"op":"test","path":"/spec/podCIDR","value":"10.244.1.0/24"},{"op":"replace","path":"/spec/podCIDR","value":"10.244.7.0/24"}]""", V1Patch.PatchType.JsonPatch), "node-a");
        Assert.Equal("10.244.7.0/24", patched.Spec.PodCIDR);

        var failed = await Assert.ThrowsAsync<HttpOperationException>(() => t.Client.CoreV1.PatchNodeAsync(
            new V1Patch("""[{"op":"test","path":"/spec/podCIDR","value":"nope"}]""", V1Patch.PatchType.JsonPatch), "node-a"));
        Assert.Equal((HttpStatusCode)422, failed.Response.StatusCode);

        var stale = await Assert.ThrowsAsync<HttpOperationException>(() => t.Client.CoreV1.PatchNodeAsync(
            new V1Patch("""{"metadata":{"resourceVersion":"1"},"spec":{"podCIDR":"10.244.8.0/24"}}""", V1Patch.PatchType.MergePatch), "node-a"));
        Assert.Equal(HttpStatusCode.Conflict, stale.Response.StatusCode);

        var strategic = await t.Client.CoreV1.PatchNodeAsync(
            new V1Patch("""{"spec":{"taints":[{"key":"a","effect":"NoSchedule"}]}}""", V1Patch.PatchType.StrategicMergePatch), "node-a");
        Assert.Equal("a", Assert.Single(strategic.Spec.Taints).Key);
    }

    [Fact]
    public async Task FinalizersHoldDeletionUntilRemoved()
    {
        await using var t = await TestServer.StartAsync();
        var node = Node("node-a");
        node.Metadata.Finalizers = ["test.trellis.io/hold"];
        await t.Client.CoreV1.CreateNodeAsync(node);
        await t.Client.CoreV1.DeleteNodeAsync("node-a");
        var held = await t.Client.CoreV1.ReadNodeAsync("node-a");
        Assert.NotNull(held.Metadata.DeletionTimestamp);
        Assert.Equal(0, held.Metadata.DeletionGracePeriodSeconds);
        Assert.Equal(2, held.Metadata.Generation);

        held.Metadata.Finalizers = [];
        await t.Client.CoreV1.ReplaceNodeAsync(held, "node-a");
        var e = await Assert.ThrowsAsync<HttpOperationException>(() => t.Client.CoreV1.ReadNodeAsync("node-a"));
        Assert.Equal(HttpStatusCode.NotFound, e.Response.StatusCode);
    }

    [Fact]
    public async Task DeletePreconditionMismatchIsConflict()
    {
        await using var t = await TestServer.StartAsync();
        await t.Client.CoreV1.CreateNodeAsync(Node("node-a"));
        var e = await Assert.ThrowsAsync<HttpOperationException>(() => t.Client.CoreV1.DeleteNodeAsync("node-a",
            new V1DeleteOptions { Preconditions = new V1Preconditions { Uid = "not-the-uid" } }));
        Assert.Equal(HttpStatusCode.Conflict, e.Response.StatusCode);
        Assert.NotNull(await t.Client.CoreV1.ReadNodeAsync("node-a"));
    }

    [Fact]
    public async Task OwnerDeletionCollectsDependents()
    {
        await using var t = await TestServer.StartAsync();
        var owner = await t.Client.CoreV1.CreateNodeAsync(Node("owner"));
        var reference = new V1OwnerReference { ApiVersion = "v1", Kind = "Node", Name = "owner", Uid = owner.Metadata.Uid };
        var dependent = Node("dependent");
        dependent.Metadata.OwnerReferences = [reference];
        await t.Client.CoreV1.CreateNodeAsync(dependent);
        var lease = new V1Lease { Metadata = new V1ObjectMeta { Name = "owned-lease", OwnerReferences = [reference] }, Spec = new V1LeaseSpec() };
        await t.Client.CoordinationV1.CreateNamespacedLeaseAsync(lease, "default");
        await t.Client.CoreV1.CreateNodeAsync(Node("bystander"));

        await t.Client.CoreV1.DeleteNodeAsync("owner");
        Assert.Equal(["bystander"], (await t.Client.CoreV1.ListNodeAsync()).Items.Select(n => n.Metadata.Name).ToArray());
        Assert.Empty((await t.Client.CoordinationV1.ListNamespacedLeaseAsync("default")).Items);
    }

    [Fact]
    public async Task GenerateNameMakesAUniqueName()
    {
        await using var t = await TestServer.StartAsync();
        var a = await t.Client.CoreV1.CreateNodeAsync(new V1Node { Metadata = new V1ObjectMeta { GenerateName = "worker-" } });
        var b = await t.Client.CoreV1.CreateNodeAsync(new V1Node { Metadata = new V1ObjectMeta { GenerateName = "worker-" } });
        Assert.StartsWith("worker-", a.Metadata.Name);
        Assert.NotEqual(a.Metadata.Name, b.Metadata.Name);
    }

    [Fact]
    public async Task EventsCanBeCreatedAndSelectedByInvolvedObject()
    {
        await using var t = await TestServer.StartAsync();
        await t.Client.CoreV1.CreateNamespacedEventAsync(new Corev1Event
        {
            Metadata = new V1ObjectMeta { Name = "node-a.1" },
            InvolvedObject = new V1ObjectReference { Kind = "Node", Name = "node-a" },
            Reason = "PoolExhausted",
            Message = "no block left",
            Type = "Warning",
        }, "default");
        await t.Client.EventsV1.CreateNamespacedEventAsync(new Eventsv1Event
        {
            Metadata = new V1ObjectMeta { Name = "node-a.2" },
            EventTime = DateTime.UtcNow,
            Reason = "Allocated",
            Action = "Allocate",
            ReportingController = "trellis.io/operator",
            ReportingInstance = "operator-0",
            Type = "Normal",
        }, "default");
        var events = await t.Client.CoreV1.ListNamespacedEventAsync("default", fieldSelector: "involvedObject.name=node-a,involvedObject.kind=Node");
        Assert.Equal("PoolExhausted", Assert.Single(events.Items).Reason);
        Assert.Single((await t.Client.EventsV1.ListNamespacedEventAsync("default")).Items);
    }
}
