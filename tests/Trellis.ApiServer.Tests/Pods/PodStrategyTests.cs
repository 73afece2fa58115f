using System.Text.Json.Nodes;
using Trellis.ApiServer.Pods;

namespace Trellis.ApiServer.Tests.Pods;

public sealed class PodStrategyTests
{
    private static JsonObject Pod(string containers = """[{"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}]""", string extraSpec = "") =>
        JsonNode.Parse($$$"""{"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "p", "namespace": "default"}, "spec": {"containers": {{{containers}}}{{{extraSpec}}}}, "status": {"phase": "Running", "podIP": "10.0.0.9"}}""")!.AsObject();

    [Fact]
    public void Create_defaults_what_the_real_server_defaults_and_starts_Pending()
    {
        var pod = Pod();
        PodStrategy.PrepareForCreate(pod);
        Assert.Equal("TCP", (string?)pod["spec"]!["containers"]![0]!["ports"]![0]!["protocol"]);
        Assert.Equal(30, (int?)pod["spec"]!["terminationGracePeriodSeconds"]);
        Assert.Equal("Always", (string?)pod["spec"]!["restartPolicy"]);
        Assert.Equal("default-scheduler", (string?)pod["spec"]!["schedulerName"]);
        Assert.Equal("IfNotPresent", (string?)pod["spec"]!["containers"]![0]!["imagePullPolicy"]);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"phase": "Pending", "qosClass": "BestEffort"}"""), pod["status"]));
    }

    [Fact]
    public void Host_network_ports_get_their_host_port()
    {
        var pod = Pod(extraSpec: """, "hostNetwork": true""");
        PodStrategy.PrepareForCreate(pod);
        Assert.Equal(80, (int?)pod["spec"]!["containers"]![0]!["ports"]![0]!["hostPort"]);
    }

    [Theory]
    [InlineData("""[]""", "spec.containers: Required value")]
    [InlineData("""[{"image": "x"}]""", "spec.containers[0].name: Required value")]
    [InlineData("""[{"name": "Web", "image": "x"}]""", "spec.containers[0].name: Invalid value: \"Web\"")]
    [InlineData("""[{"name": "a", "image": "x"}, {"name": "a", "image": "x"}]""", "spec.containers[1].name: Duplicate value")]
    [InlineData("""[{"name": "a"}]""", "spec.containers[0].image: Required value")]
    [InlineData("""[{"name": "a", "image": "x", "ports": [{"containerPort": 0}]}]""", "spec.containers[0].ports[0].containerPort: Invalid value: 0")]
    [InlineData("""[{"name": "a", "image": "x", "ports": [{"containerPort": 70000}]}]""", "ports[0].containerPort: Invalid value: 70000")]
    [InlineData("""[{"name": "a", "image": "x", "ports": [{"containerPort": "80"}]}]""", "ports[0].containerPort: Invalid value: must be an integer")]
    [InlineData("""[{"name": "a", "image": "x", "ports": [{"protocol": "TCP"}]}]""", "ports[0].containerPort: Required value")]
    [InlineData("""[{"name": "a", "image": "x", "ports": [{"containerPort": 80, "protocol": "ICMP"}]}]""", "ports[0].protocol: Unsupported value: \"ICMP\"")]
    [InlineData("""[{"name": "a", "image": "x", "ports": [{"containerPort": 80, "name": "Serve_80"}]}]""", "ports[0].name: Invalid value: \"Serve_80\"")]
    [InlineData("""[{"name": "a", "image": "x", "ports": [{"containerPort": 80, "name": "http"}, {"containerPort": 81, "name": "http"}]}]""", "ports[1].name: Duplicate value")]
    [InlineData("""{"name": "a"}""", "spec.containers: Invalid value: must be a list")]
    public void Create_refuses_a_pod_no_kubelet_could_run_and_names_the_field(string containers, string message)
    {
        var error = Assert.Throws<ApiError>(() => PodStrategy.PrepareForCreate(Pod(containers)));
        Assert.Equal(422, error.Code);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void Host_network_ports_must_match_their_host_port()
    {
        var error = Assert.Throws<ApiError>(() => PodStrategy.PrepareForCreate(Pod("""[{"name": "a", "image": "x", "ports": [{"containerPort": 80, "hostPort": 81}]}]""", """, "hostNetwork": true""")));
        Assert.Contains("must match `containerPort` when `hostNetwork` is true", error.Message);
    }

    [Fact]
    public void A_node_name_must_be_a_name() =>
        Assert.Contains("spec.nodeName", Assert.Throws<ApiError>(() => PodStrategy.PrepareForCreate(Pod(extraSpec: """, "nodeName": "Node_1" """))).Message);

    [Fact]
    public void Updates_may_change_images_but_not_ports_or_the_node()
    {
        var before = Pod();
        PodStrategy.PrepareForCreate(before);

        var newImage = (JsonObject)before.DeepClone();
        newImage["spec"]!["containers"]![0]!["image"] = "nginx:1.28";
        newImage["metadata"]!["labels"] = new JsonObject { ["app"] = "web" };
        PodStrategy.PrepareForUpdate(before, newImage);

        var newPort = (JsonObject)before.DeepClone();
        newPort["spec"]!["containers"]![0]!["ports"]![0]!["containerPort"] = 8080;
        Assert.Contains("spec: Forbidden: pod updates may not change fields", Assert.Throws<ApiError>(() => PodStrategy.PrepareForUpdate(before, newPort)).Message);

        var newNode = (JsonObject)before.DeepClone();
        newNode["spec"]!["nodeName"] = "node1";
        Assert.Throws<ApiError>(() => PodStrategy.PrepareForUpdate(before, newNode));
    }

    [Fact]
    public void An_update_that_leaves_out_defaults_is_the_same_spec()
    {
        var before = Pod();
        PodStrategy.PrepareForCreate(before);
        PodStrategy.PrepareForUpdate(before, Pod());
    }

    [Theory]
    [InlineData("""{"podIP": "10.0.0.300"}""", "status.podIP")]
    [InlineData("""{"podIP": "10.0.0.3", "podIPs": [{"ip": "10.0.0.4"}]}""", "must be the first of status.podIPs")]
    [InlineData("""{"podIP": "10.0.0.3", "podIPs": [{"ip": "10.0.0.3"}, {"ip": "fd00::x"}]}""", "status.podIPs[1].ip")]
    public void Status_addresses_must_be_addresses(string status, string message)
    {
        var pod = Pod();
        pod["status"] = JsonNode.Parse(status);
        Assert.Contains(message, Assert.Throws<ApiError>(() => PodStrategy.ValidateStatus(pod)).Message);
    }

    [Theory]
    [InlineData(null, "node1", "Running", 30L)]
    [InlineData(5L, "node1", "Running", 5L)]
    [InlineData(null, null, "Pending", 0L)]
    [InlineData(null, "node1", "Succeeded", 0L)]
    [InlineData(null, "node1", "Failed", 0L)]
    public void The_grace_period_is_zero_for_a_pod_no_kubelet_runs(long? requested, string? node, string phase, long expected)
    {
        var pod = Pod();
        PodStrategy.PrepareForCreate(pod);
        if (node is not null) pod["spec"]!["nodeName"] = node;
        pod["status"]!["phase"] = phase;
        Assert.Equal(expected, PodStrategy.GracePeriod(pod, requested));
    }
}
