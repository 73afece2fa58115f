using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Trellis.Local.Kubelet;
using Xunit;

namespace Trellis.Local.Tests.Kubelet;

public sealed class PodStatusReportTests
{
    private static readonly DateTimeOffset Now = new(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly string SandboxA = new('a', 64);
    private static readonly string SandboxB = new('b', 64);

    private static V1Pod Pod(JsonObject? status = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = "p", NamespaceProperty = "x", Uid = "u1" },
        Spec = new V1PodSpec { Containers = [new V1Container { Name = "web", Image = "agnhost" }, new V1Container { Name = "side", Image = "agnhost" }] },
        Status = status is null ? new V1PodStatus { Phase = "Pending" } : KubernetesJson.Deserialize<V1PodStatus>(status.ToJsonString()),
    };

    [Fact]
    public void A_running_sandbox_makes_the_pod_Running_and_Ready_with_its_addresses()
    {
        var status = PodStatusReport.Running(Pod(), SandboxA, ["10.244.1.5", "fd00::5"], "192.168.1.11", Now, Now);
        Assert.Equal("Running", (string?)status["phase"]);
        Assert.Equal("10.244.1.5", (string?)status["podIP"]);
        Assert.Equal(["10.244.1.5", "fd00::5"], status["podIPs"]!.AsArray().Select(i => (string?)i!["ip"]));
        Assert.Equal("192.168.1.11", (string?)status["hostIP"]);
        Assert.All(status["conditions"]!.AsArray(), c => Assert.Equal("True", (string?)c!["status"]));
        Assert.Contains(status["conditions"]!.AsArray(), c => (string?)c!["type"] == "Ready");
        Assert.All(status["containerStatuses"]!.AsArray(), c => Assert.True((bool)c!["ready"]!));
    }

    [Fact]
    public void Writing_what_the_pod_already_says_is_not_needed()
    {
        var status = PodStatusReport.Running(Pod(), SandboxA, ["10.244.1.5"], "192.168.1.11", Now, Now);
        Assert.False(PodStatusReport.Says(Pod(), status));
        var reported = Pod(status);
        Assert.True(PodStatusReport.Says(reported, PodStatusReport.Running(reported, SandboxA, ["10.244.1.5"], "192.168.1.11", Now, Now.AddMinutes(5))));
        Assert.False(PodStatusReport.Says(reported, PodStatusReport.Running(reported, SandboxA, ["10.244.1.6"], "192.168.1.11", Now, Now)));
    }

    [Fact]
    public void A_new_sandbox_is_a_restart_of_every_container_and_keeps_the_start_time()
    {
        var first = Pod(PodStatusReport.Running(Pod(), SandboxA, ["10.244.1.5"], "192.168.1.11", Now, Now));
        var second = PodStatusReport.Running(first, SandboxB, ["10.244.1.7"], "192.168.1.11", Now.AddMinutes(1), Now.AddMinutes(1));
        Assert.All(second["containerStatuses"]!.AsArray(), c => Assert.Equal(1, (int)c!["restartCount"]!));
        Assert.NotEqual((string?)first.Status.ContainerStatuses[0].ContainerID, (string?)second["containerStatuses"]![0]!["containerID"]);
        Assert.Equal("2025-01-01T12:00:00Z", (string?)second["startTime"]);
        var again = PodStatusReport.Running(Pod(second), SandboxB, ["10.244.1.7"], "192.168.1.11", Now.AddMinutes(1), Now.AddMinutes(2));
        Assert.All(again["containerStatuses"]!.AsArray(), c => Assert.Equal(1, (int)c!["restartCount"]!));
    }

    [Fact]
    public void A_pod_whose_annotations_name_a_new_sandbox_has_no_endpoint_until_its_status_is_of_that_sandbox()
    {
        var pod = Pod(PodStatusReport.Running(Pod(), SandboxA, ["10.244.1.5"], "192.168.1.11", Now, Now));
        pod.Metadata.Annotations = new Dictionary<string, string> { [PodStatusReport.NetnsAnnotation] = "/run/netns/a", [PodStatusReport.SandboxAnnotation] = SandboxA };
        Assert.Equal("10.244.1.5", Trellis.Local.Connectivity.PodEndpoint.From(pod, out _)!.Addresses.Single().ToString());

        // The kubelet's first write (annotations) landed, its second (status) not yet: the address is the old sandbox's.
        pod.Metadata.Annotations = new Dictionary<string, string> { [PodStatusReport.NetnsAnnotation] = "/run/netns/b", [PodStatusReport.SandboxAnnotation] = SandboxB };
        Assert.Null(Trellis.Local.Connectivity.PodEndpoint.From(pod, out var why));
        Assert.Contains("earlier sandbox", why);

        pod.Status = Pod(PodStatusReport.Running(pod, SandboxB, ["10.244.1.7"], "192.168.1.11", Now, Now)).Status;
        Assert.Equal("10.244.1.7", Trellis.Local.Connectivity.PodEndpoint.From(pod, out _)!.Addresses.Single().ToString());
    }

    [Fact]
    public void A_pod_without_a_sandbox_is_Pending_without_an_address()
    {
        var running = Pod(PodStatusReport.Running(Pod(), SandboxA, ["10.244.1.5"], "192.168.1.11", Now, Now));
        var waiting = PodStatusReport.Waiting(running, "192.168.1.11", Now);
        Assert.Equal("Pending", (string?)waiting["phase"]);
        Assert.True(waiting.ContainsKey("podIP") && waiting["podIP"] is null, "a merge patch must clear podIP");
        Assert.Contains(waiting["conditions"]!.AsArray(), c => (string?)c!["type"] == "Ready" && (string?)c["status"] == "False");
        Assert.All(waiting["containerStatuses"]!.AsArray(), c => Assert.Equal("ContainerCreating", (string?)c!["state"]!["waiting"]!["reason"]));
        Assert.False(PodStatusReport.Says(running, waiting));
    }
}
