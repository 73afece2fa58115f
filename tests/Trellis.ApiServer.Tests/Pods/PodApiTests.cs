using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Trellis.ApiServer.Tests.Server;

namespace Trellis.ApiServer.Tests.Pods;

/// <summary>What a kubelet and a scheduler do with pods, through the server with KubernetesClient.</summary>
public sealed class PodApiTests
{
    private static V1Pod Pod(string name, string? node = null, string? ns = "default") => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, Labels = new Dictionary<string, string> { ["app"] = "web" } },
        Spec = new V1PodSpec
        {
            NodeName = node,
            Containers = [new V1Container { Name = "web", Image = "registry.k8s.io/e2e-test-images/agnhost:2.52", Ports = [new V1ContainerPort { ContainerPort = 80 }] }],
        },
        Status = new V1PodStatus { Phase = "Running", PodIP = "10.9.9.9" },
    };

    private static V1Binding Binding(string pod, string node) => new()
    {
        Metadata = new V1ObjectMeta { Name = pod },
        Target = new V1ObjectReference { Kind = "Node", Name = node },
    };

    [Fact]
    public async Task A_created_pod_is_Pending_with_defaults_whatever_status_it_was_sent_with()
    {
        await using var t = await TestServer.StartAsync();
        var pod = await t.Client.CoreV1.CreateNamespacedPodAsync(Pod("a"), "default");
        Assert.Equal("Pending", pod.Status.Phase);
        Assert.Null(pod.Status.PodIP);
        Assert.Equal("TCP", pod.Spec.Containers[0].Ports[0].Protocol);
        Assert.Equal(30, pod.Spec.TerminationGracePeriodSeconds);
    }

    [Fact]
    public async Task Binding_sets_the_node_once_and_marks_the_pod_scheduled()
    {
        await using var t = await TestServer.StartAsync();
        await t.Client.CoreV1.CreateNamespacedPodAsync(Pod("a"), "default");
        await t.Client.CoreV1.CreateNamespacedPodBindingAsync(Binding("a", "node1"), "a", "default");
        var pod = await t.Client.CoreV1.ReadNamespacedPodAsync("a", "default");
        Assert.Equal("node1", pod.Spec.NodeName);
        Assert.Contains(pod.Status.Conditions, c => c.Type == "PodScheduled" && c.Status == "True");

        var again = await Assert.ThrowsAsync<HttpOperationException>(() => t.Client.CoreV1.CreateNamespacedPodBindingAsync(Binding("a", "node2"), "a", "default"));
        Assert.Equal(HttpStatusCode.Conflict, again.Response.StatusCode);
        Assert.Contains("is already assigned to node \\\"node1\\\"", again.Response.Content);

        var (code, body) = await t.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/pods/a/binding", """{"metadata": {"name": "b"}, "target": {"name": "node2"}}""");
        Assert.Equal(400, code);
        Assert.Contains("name in URL does not match", body!["message"]!.GetValue<string>());
        (code, _) = await t.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/pods/missing/binding", """{"metadata": {"name": "missing"}, "target": {"name": "node2"}}""");
        Assert.Equal(404, code);
        (code, body) = await t.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/pods/a/binding", """{"metadata": {"name": "a"}, "target": {"kind": "Pod", "name": "x"}}""");
        Assert.Equal(422, code);
        Assert.Equal("node1", (await t.Client.CoreV1.ReadNamespacedPodAsync("a", "default")).Spec.NodeName);
    }

    [Fact]
    public async Task A_kubelet_watching_its_node_sees_a_pod_when_it_is_bound_there()
    {
        await using var t = await TestServer.StartAsync();
        var list = await t.Client.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: "spec.nodeName=node1");
        var events = new List<(WatchEventType, string)>();
        var seen = new TaskCompletionSource();
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var watching = Task.Run(async () =>
        {
#pragma warning disable CS0618
            await foreach (var (type, pod) in t.Client.CoreV1.ListPodForAllNamespacesWithHttpMessagesAsync(
                fieldSelector: "spec.nodeName=node1", watch: true, resourceVersion: list.Metadata.ResourceVersion, cancellationToken: cancel.Token)
                .WatchAsync<V1Pod, V1PodList>(cancellationToken: cancel.Token))
#pragma warning restore CS0618
            {
                lock (events) events.Add((type, pod.Metadata.Name));
                if (type == WatchEventType.Deleted) seen.TrySetResult();
            }
        });
        await t.Client.CoreV1.CreateNamespacedPodAsync(Pod("elsewhere"), "default");
        await t.Client.CoreV1.CreateNamespacedPodAsync(Pod("here"), "default");
        await t.Client.CoreV1.CreateNamespacedPodBindingAsync(Binding("elsewhere", "node2"), "elsewhere", "default");
        await t.Client.CoreV1.CreateNamespacedPodBindingAsync(Binding("here", "node1"), "here", "default");
        await t.Client.CoreV1.DeleteNamespacedPodAsync("here", "default", new V1DeleteOptions { GracePeriodSeconds = 0 });
        await seen.Task.WaitAsync(cancel.Token);
        await cancel.CancelAsync();
        try { await watching; } catch (OperationCanceledException) { }
        lock (events) Assert.Equal([(WatchEventType.Added, "here"), (WatchEventType.Deleted, "here")], events);

        var running = await t.Client.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: "status.phase=Pending,spec.nodeName=node2");
        Assert.Equal(["elsewhere"], running.Items.Select(p => p.Metadata.Name));
    }

    [Fact]
    public async Task Deleting_a_running_pod_waits_for_its_kubelet_to_delete_it_with_grace_period_zero()
    {
        await using var t = await TestServer.StartAsync();
        var created = await t.Client.CoreV1.CreateNamespacedPodAsync(Pod("a", node: "node1"), "default");

        var marked = await t.Client.CoreV1.DeleteNamespacedPodAsync("a", "default");
        Assert.NotNull(marked.Metadata.DeletionTimestamp);
        Assert.Equal(30, marked.Metadata.DeletionGracePeriodSeconds);
        var stillThere = await t.Client.CoreV1.ReadNamespacedPodAsync("a", "default");
        Assert.Equal(marked.Metadata.DeletionTimestamp, stillThere.Metadata.DeletionTimestamp);

        var repeated = await t.Client.CoreV1.DeleteNamespacedPodAsync("a", "default", new V1DeleteOptions { GracePeriodSeconds = 60 });
        Assert.Equal(30, repeated.Metadata.DeletionGracePeriodSeconds);
        var shortened = await t.Client.CoreV1.DeleteNamespacedPodAsync("a", "default", new V1DeleteOptions { GracePeriodSeconds = 10 });
        Assert.Equal(10, shortened.Metadata.DeletionGracePeriodSeconds);
        Assert.True(shortened.Metadata.DeletionTimestamp < marked.Metadata.DeletionTimestamp);

        var wrongUid = await Assert.ThrowsAsync<HttpOperationException>(() => t.Client.CoreV1.DeleteNamespacedPodAsync("a", "default",
            new V1DeleteOptions { GracePeriodSeconds = 0, Preconditions = new V1Preconditions { Uid = Guid.NewGuid().ToString() } }));
        Assert.Equal(HttpStatusCode.Conflict, wrongUid.Response.StatusCode);

        var final = await t.Client.CoreV1.DeleteNamespacedPodAsync("a", "default",
            new V1DeleteOptions { GracePeriodSeconds = 0, Preconditions = new V1Preconditions { Uid = created.Metadata.Uid } });
        Assert.Equal("a", final.Metadata.Name);
        var gone = await Assert.ThrowsAsync<HttpOperationException>(() => t.Client.CoreV1.ReadNamespacedPodAsync("a", "default"));
        Assert.Equal(HttpStatusCode.NotFound, gone.Response.StatusCode);
    }

    [Fact]
    public async Task Forced_deletion_and_deletion_of_an_unbound_pod_are_immediate()
    {
        await using var t = await TestServer.StartAsync();
        await t.Client.CoreV1.CreateNamespacedPodAsync(Pod("bound", node: "node1"), "default");
        await t.Client.CoreV1.CreateNamespacedPodAsync(Pod("unbound"), "default");
        await t.Client.CoreV1.DeleteNamespacedPodAsync("unbound", "default");
        var (code, _) = await t.SendAsync(HttpMethod.Delete, "/api/v1/namespaces/default/pods/bound?gracePeriodSeconds=0");
        Assert.Equal(200, code);
        Assert.Empty((await t.Client.CoreV1.ListNamespacedPodAsync("default")).Items);
    }

    [Fact]
    public async Task Finalizers_hold_a_pod_deleted_with_grace_period_zero()
    {
        await using var t = await TestServer.StartAsync();
        var pod = Pod("held", node: "node1");
        pod.Metadata.Finalizers = ["test.trellis.io/hold"];
        await t.Client.CoreV1.CreateNamespacedPodAsync(pod, "default");
        var held = await t.Client.CoreV1.DeleteNamespacedPodAsync("held", "default", new V1DeleteOptions { GracePeriodSeconds = 0 });
        Assert.Equal(0, held.Metadata.DeletionGracePeriodSeconds);
        Assert.NotNull((await t.Client.CoreV1.ReadNamespacedPodAsync("held", "default")).Metadata.DeletionTimestamp);
        await t.Client.CoreV1.PatchNamespacedPodAsync(new V1Patch("""{"metadata": {"finalizers": null}}""", V1Patch.PatchType.MergePatch), "held", "default");
        Assert.Empty((await t.Client.CoreV1.ListNamespacedPodAsync("default")).Items);
    }

    [Fact]
    public async Task Status_is_written_through_pods_status_and_the_spec_stays_put()
    {
        await using var t = await TestServer.StartAsync();
        await t.Client.CoreV1.CreateNamespacedPodAsync(Pod("a", node: "node1"), "default");
        var patched = await t.Client.CoreV1.PatchNamespacedPodStatusAsync(new V1Patch(
            """{"spec": {"nodeName": "node9"}, "status": {"phase": "Running", "podIP": "10.244.1.5", "podIPs": [{"ip": "10.244.1.5"}]}}""",
            V1Patch.PatchType.MergePatch), "a", "default");
        Assert.Equal("Running", patched.Status.Phase);
        Assert.Equal("node1", patched.Spec.NodeName);
        var bad = await Assert.ThrowsAsync<HttpOperationException>(() => t.Client.CoreV1.PatchNamespacedPodStatusAsync(new V1Patch(
            """{"status": {"podIP": "not-an-address"}}""", V1Patch.PatchType.MergePatch), "a", "default"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, bad.Response.StatusCode);
        Assert.Equal("10.244.1.5", (await t.Client.CoreV1.ReadNamespacedPodAsync("a", "default")).Status.PodIP);
    }

    [Fact]
    public async Task The_table_is_kubectls_pod_table_and_discovery_offers_binding()
    {
        await using var t = await TestServer.StartAsync();
        await t.Client.CoreV1.CreateNamespacedPodAsync(Pod("a", node: "node1"), "default");
        await t.Client.CoreV1.PatchNamespacedPodStatusAsync(new V1Patch("""
            {"status": {"phase": "Running", "podIP": "10.244.1.5", "podIPs": [{"ip": "10.244.1.5"}],
              "conditions": [{"type": "Ready", "status": "True"}],
              "containerStatuses": [{"name": "web", "ready": true, "restartCount": 2, "image": "x", "imageID": "", "state": {"running": {"startedAt": "2025-01-01T00:00:00Z"}}}]}}
            """, V1Patch.PatchType.MergePatch), "a", "default");
        await t.Client.CoreV1.CreateNamespacedPodAsync(Pod("b"), "default");
        var (code, table) = await t.SendAsync(HttpMethod.Get, "/api/v1/namespaces/default/pods", accept: "application/json;as=Table;v=v1;g=meta.k8s.io");
        Assert.Equal(200, code);
        Assert.Equal(["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node", "Nominated Node", "Readiness Gates"],
            table!["columnDefinitions"]!.AsArray().Select(c => c!["name"]!.GetValue<string>()));
        var rows = table["rows"]!.AsArray().Select(r => r!["cells"]!.AsArray().Select(c => c!.ToString()).ToList()).ToList();
        Assert.Equal(["a", "1/1", "Running", "2"], rows[0].Take(4));
        Assert.Equal(["10.244.1.5", "node1", "<none>", "<none>"], rows[0].Skip(5));
        Assert.Equal(["b", "0/1", "Pending", "0"], rows[1].Take(4));
        Assert.Equal("<none>", rows[1][6]);

        await t.Client.CoreV1.DeleteNamespacedPodAsync("a", "default");
        (_, table) = await t.SendAsync(HttpMethod.Get, "/api/v1/namespaces/default/pods/a", accept: "application/json;as=Table;v=v1;g=meta.k8s.io");
        Assert.Equal("Terminating", table!["rows"]![0]!["cells"]![2]!.GetValue<string>());

        var (_, resources) = await t.SendAsync(HttpMethod.Get, "/api/v1");
        Assert.Contains(resources!["resources"]!.AsArray(), r => r!["name"]!.GetValue<string>() == "pods/binding");
    }
}
