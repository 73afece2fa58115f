using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;

namespace Trellis.ApiServer.Tests.Server;

/// <summary>Raw HTTP: the shapes and codes of replies, as the real server sends them.</summary>
public sealed class ProtocolTests
{
    private const string Nodes = "/api/v1/nodes";

    private static void AssertStatus(JsonNode? body, int code, string reason)
    {
        Assert.Equal("Status", body!["kind"]!.GetValue<string>());
        Assert.Equal("v1", body["apiVersion"]!.GetValue<string>());
        Assert.Equal("Failure", body["status"]!.GetValue<string>());
        Assert.Equal(reason, body["reason"]!.GetValue<string>());
        Assert.Equal(code, body["code"]!.GetValue<int>());
        Assert.False(string.IsNullOrEmpty(body["message"]!.GetValue<string>()));
    }

    [Fact]
    public async Task HealthVersionAndDiscovery()
    {
        await using var t = await TestServer.StartAsync();
        foreach (var path in new[] { "/healthz", "/livez", "/readyz" })
            Assert.Equal((200, "ok"), await Text(t, path));
        var (_, version) = await t.SendAsync(HttpMethod.Get, "/version");
        Assert.Equal("v1.32.0", version!["gitVersion"]!.GetValue<string>());
        var (_, api) = await t.SendAsync(HttpMethod.Get, "/api");
        Assert.Equal(["v1"], api!["versions"]!.AsArray().Select(v => v!.GetValue<string>()).ToArray());
        var (_, core) = await t.SendAsync(HttpMethod.Get, "/api/v1");
        var nodes = core!["resources"]!.AsArray().Single(r => r!["name"]!.GetValue<string>() == "nodes")!;
        Assert.False(nodes["namespaced"]!.GetValue<bool>());
        Assert.Contains(core["resources"]!.AsArray(), r => r!["name"]!.GetValue<string>() == "nodes/status");
        var (_, groups) = await t.SendAsync(HttpMethod.Get, "/apis");
        Assert.Equal(["apiextensions.k8s.io", "apps", "authentication.k8s.io", "authorization.k8s.io", "coordination.k8s.io", "events.k8s.io", "networking.k8s.io", "policy", "rbac.authorization.k8s.io"],
            groups!["groups"]!.AsArray().Select(g => g!["name"]!.GetValue<string>()).Order().ToArray());
        var (_, leases) = await t.SendAsync(HttpMethod.Get, "/apis/coordination.k8s.io/v1");
        Assert.True(leases!["resources"]![0]!["namespaced"]!.GetValue<bool>());
        var (v3Code, v3) = await t.SendAsync(HttpMethod.Get, "/openapi/v3");
        Assert.Equal(200, v3Code);
        Assert.StartsWith("/openapi/v3/api/v1?hash=", v3!["paths"]!["api/v1"]!["serverRelativeURL"]!.GetValue<string>());
        var (_, core1) = await t.SendAsync(HttpMethod.Get, v3["paths"]!["api/v1"]!["serverRelativeURL"]!.GetValue<string>());
        Assert.Equal("3.0.0", core1!["openapi"]!.GetValue<string>());
        Assert.NotNull(core1["components"]!["schemas"]!["io.k8s.api.core.v1.Node"]);
        var patch = core1["paths"]!["/api/v1/nodes/{name}"]!["patch"]!;
        Assert.Contains(patch["parameters"]!.AsArray(), p => p!["name"]!.GetValue<string>() == "fieldValidation");
        var (v2Code, v2) = await t.SendAsync(HttpMethod.Get, "/openapi/v2", accept: "application/json");
        Assert.Equal(200, v2Code);
        Assert.Equal("2.0", v2!["swagger"]!.GetValue<string>());
        Assert.Equal(406, (await t.SendAsync(HttpMethod.Get, "/openapi/v2", accept: "application/com.github.proto-openapi.spec.v2@v1.0+protobuf")).Code);
        Assert.Equal(404, (await t.SendAsync(HttpMethod.Get, "/openapi/v3/apis/nothing.example/v1")).Code);
        var (code, missing) = await t.SendAsync(HttpMethod.Get, "/apis/nothing.example/v1/things");
        Assert.Equal(404, code);
        AssertStatus(missing, 404, "NotFound");
    }

    private static async Task<(int, string)> Text(TestServer t, string path)
    {
        using var response = await t.Http.GetAsync(path);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task BadBodiesAreRefusedAndChangeNothing()
    {
        await using var t = await TestServer.StartAsync();
        var (code, body) = await t.SendAsync(HttpMethod.Post, Nodes, "{not json");
        Assert.Equal(400, code);
        AssertStatus(body, 400, "BadRequest");
        (code, body) = await t.SendAsync(HttpMethod.Post, Nodes, """{"kind":"Pod","apiVersion":"v1","metadata":{"name":"a"}}""");
        Assert.Equal(400, code);
        (code, _) = await t.SendAsync(HttpMethod.Post, Nodes, """{"kind":"Node","apiVersion":"v2","metadata":{"name":"a"}}""");
        Assert.Equal(400, code);
        (code, body) = await t.SendAsync(HttpMethod.Post, Nodes, """{"kind":"Node","apiVersion":"v1","metadata":{}}""");
        Assert.Equal(422, code);
        AssertStatus(body, 422, "Invalid");
        Assert.Equal("metadata.name", body!["details"]!["causes"]![0]!["field"]!.GetValue<string>());
        (code, _) = await t.SendAsync(HttpMethod.Post, Nodes, """{"kind":"Node","apiVersion":"v1","metadata":{"name":"Not_Valid"}}""");
        Assert.Equal(422, code);
        var (_, list) = await t.SendAsync(HttpMethod.Get, Nodes);
        Assert.Empty(list!["items"]!.AsArray());

        (code, _) = await t.SendAsync(HttpMethod.Post, Nodes, """{"metadata":{"name":"a"}}""");
        Assert.Equal(201, code);
        (code, body) = await t.SendAsync(HttpMethod.Put, Nodes + "/a", """{"kind":"Node","apiVersion":"v1","metadata":{"name":"b"}}""");
        Assert.Equal(400, code);
        Assert.Contains("does not match the name on the URL", body!["message"]!.GetValue<string>());
        (code, _) = await t.SendAsync(HttpMethod.Post, "/apis/coordination.k8s.io/v1/namespaces/default/leases",
            """{"metadata":{"name":"l","namespace":"kube-system"}}""");
        Assert.Equal(400, code);
        (code, _) = await t.SendAsync(HttpMethod.Post, "/apis/coordination.k8s.io/v1/namespaces/absent/leases", """{"metadata":{"name":"l"}}""");
        Assert.Equal(404, code);
        (code, body) = await t.SendAsync(HttpMethod.Patch, Nodes + "/a", "{}", "application/apply-patch+yaml");
        Assert.Equal(422, code);
        Assert.Equal("PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch", body!["message"]!.GetValue<string>());
        (code, body) = await t.SendAsync(HttpMethod.Patch, Nodes + "/a?fieldManager=x", "{not yaml: [", "application/apply-patch+yaml");
        Assert.Equal(400, code);
        (code, _) = await t.SendAsync(HttpMethod.Patch, Nodes + "/a", """[{"op":"jump","path":"/x"}]""", "application/json-patch+json");
        Assert.Equal(400, code);
    }

    [Fact]
    public async Task ListCarriesKindVersionAndItemsWithKind()
    {
        await using var t = await TestServer.StartAsync();
        await t.SendAsync(HttpMethod.Post, Nodes, """{"metadata":{"name":"a"}}""");
        var (_, list) = await t.SendAsync(HttpMethod.Get, Nodes);
        Assert.Equal("NodeList", list!["kind"]!.GetValue<string>());
        Assert.Equal("v1", list["apiVersion"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(list["metadata"]!["resourceVersion"]!.GetValue<string>()));
        Assert.Equal("Node", list["items"]![0]!["kind"]!.GetValue<string>());
        var (_, namespaces) = await t.SendAsync(HttpMethod.Get, "/api/v1/namespaces");
        Assert.Equal(["default", "kube-node-lease", "kube-public", "kube-system"],
            namespaces!["items"]!.AsArray().Select(n => n!["metadata"]!["name"]!.GetValue<string>()).Order().ToArray());
    }

    [Fact]
    public async Task WatchesOfOneObjectByPrefixOrByName()
    {
        await using var t = await TestServer.StartAsync();
        await t.SendAsync(HttpMethod.Post, Nodes, """{"metadata":{"name":"a"}}""");
        await t.SendAsync(HttpMethod.Post, Nodes, """{"metadata":{"name":"b"}}""");
        using var response = await t.Http.GetAsync("/api/v1/watch/nodes/b", HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var first = JsonNode.Parse((await reader.ReadLineAsync())!)!;
        Assert.Equal("b", first["object"]!["metadata"]!["name"]!.GetValue<string>());

        using var named = await t.Http.GetAsync(Nodes + "/a?watch=true", HttpCompletionOption.ResponseHeadersRead);
        using var namedReader = new StreamReader(await named.Content.ReadAsStreamAsync());
        Assert.Equal("a", JsonNode.Parse((await namedReader.ReadLineAsync())!)!["object"]!["metadata"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task ServesOnAnAdditionalListener()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        socket.Listen();
        var options = new KubeApiServerOptions();
        options.AdditionalListeners.Add(socket);
        await using var t = await TestServer.StartAsync(options);
        var port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        Assert.NotEqual(t.Server.BaseAddress.Port, port);
        using var other = new HttpClient(t.Server.CreateTrustingHandler()) { BaseAddress = new Uri($"https://127.0.0.1:{port}") };
        other.DefaultRequestHeaders.Authorization = new("Bearer", t.Server.AdminToken);
        Assert.Equal("ok", await other.GetStringAsync("/healthz"));

        var kubeconfig = Path.GetTempFileName();
        try
        {
            t.Server.WriteKubeconfig(kubeconfig, new Uri($"https://127.0.0.1:{port}"));
            var config = k8s.KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig);
            Assert.Equal($"https://127.0.0.1:{port}", config.Host.TrimEnd('/'));
            using var client = new k8s.Kubernetes(config);
            Assert.Equal(4, (await k8s.CoreV1OperationsExtensions.ListNamespaceAsync(client.CoreV1)).Items.Count);
        }
        finally
        {
            File.Delete(kubeconfig);
        }
        Assert.Throws<ArgumentException>(() => t.Server.WriteKubeconfig(kubeconfig, new Uri("http://127.0.0.1:6443")));
    }

    [Fact]
    public async Task MetricsCountRequestsByVerbAndResource()
    {
        await using var t = await TestServer.StartAsync();
        await t.SendAsync(HttpMethod.Post, Nodes, """{"metadata":{"name":"a"}}""");
        await t.SendAsync(HttpMethod.Get, Nodes + "/a");
        await t.SendAsync(HttpMethod.Get, Nodes);
        await t.SendAsync(HttpMethod.Patch, Nodes + "/a", """{"metadata":{"labels":{"a":"b"}}}""", "application/merge-patch+json");
        Assert.Equal(1, t.Server.Metrics.Requests("create", "nodes"));
        Assert.Equal(1, t.Server.Metrics.Requests("get", "nodes"));
        Assert.Equal(1, t.Server.Metrics.Requests("list", "nodes"));
        Assert.Equal(1, t.Server.Metrics.Requests("patch"));
        Assert.Equal(2, t.Server.Metrics.Writes);
        t.Server.Metrics.Reset();
        Assert.Equal(0, t.Server.Metrics.Writes);
        Assert.Equal(0, t.Server.Metrics.Requests("get"));
    }

    [Fact]
    public async Task UnsupportedRequestsChangeNothing()
    {
        await using var t = await TestServer.StartAsync();
        var (code, body) = await t.SendAsync(HttpMethod.Post, Nodes + "?dryRun=All", """{"metadata":{"name":"a"}}""");
        Assert.Equal(201, code);
        Assert.Equal("a", body!["metadata"]!["name"]!.GetValue<string>());
        (code, body) = await t.SendAsync(HttpMethod.Post, Nodes + "?dryRun=Some", """{"metadata":{"name":"a"}}""");
        Assert.Equal(400, code);
        Assert.Equal("dryRun: Unsupported value: \"Some\": supported values: \"All\"", body!["message"]!.GetValue<string>());
        (code, _) = await t.SendAsync(HttpMethod.Post, Nodes, "k8s\u0000", "application/vnd.kubernetes.protobuf");
        Assert.Equal(415, code);
        (code, body) = await t.SendAsync(HttpMethod.Post, Nodes, """{"metadata":{"name":5}}""");
        Assert.Equal(400, code);
        (code, _) = await t.SendAsync(HttpMethod.Put, Nodes, "{}");
        Assert.Equal(405, code);
        var (_, list) = await t.SendAsync(HttpMethod.Get, Nodes);
        Assert.Empty(list!["items"]!.AsArray());
    }

    [Fact]
    public async Task EveryServedVersionOfACrdReadsTheSameObjects()
    {
        await using var t = await TestServer.StartAsync();
        var crd = JsonNode.Parse(TestServer.WidgetCrd)!;
        var v1 = crd["spec"]!["versions"]![0]!;
        var v1beta1 = v1.DeepClone();
        v1beta1["name"] = "v1beta1";
        v1beta1["storage"] = false;
        crd["spec"]!["versions"]!.AsArray().Add(v1beta1);
        Assert.Equal(201, (await t.SendAsync(HttpMethod.Post, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd.ToJsonString())).Code);
        Assert.Equal(201, (await t.SendAsync(HttpMethod.Post, "/apis/test.trellis.io/v1beta1/namespaces/default/widgets", """{"metadata":{"name":"w1"},"spec":{"size":1}}""")).Code);
        var (_, viaV1) = await t.SendAsync(HttpMethod.Get, "/apis/test.trellis.io/v1/namespaces/default/widgets/w1");
        Assert.Equal("test.trellis.io/v1", viaV1!["apiVersion"]!.GetValue<string>());
        var (_, group) = await t.SendAsync(HttpMethod.Get, "/apis/test.trellis.io");
        Assert.Equal("v1", group!["preferredVersion"]!["version"]!.GetValue<string>());
        var (_, list) = await t.SendAsync(HttpMethod.Get, "/apis/test.trellis.io/v1beta1/widgets");
        Assert.Equal("test.trellis.io/v1beta1", list!["items"]![0]!["apiVersion"]!.GetValue<string>());
    }

    [Fact]
    public async Task TablesOfOneObjectAndWithWholeObjects()
    {
        await using var t = await TestServer.StartAsync();
        await t.SendAsync(HttpMethod.Post, Nodes, """{"metadata":{"name":"a"},"spec":{"podCIDR":"10.0.0.0/24"}}""");
        const string table = "application/json;as=Table;v=v1;g=meta.k8s.io";
        var (_, one) = await t.SendAsync(HttpMethod.Get, Nodes + "/a", accept: table);
        Assert.Equal("a", one!["rows"]![0]!["cells"]![0]!.GetValue<string>());
        var (_, whole) = await t.SendAsync(HttpMethod.Get, Nodes + "?includeObject=Object", accept: table);
        Assert.Equal("10.0.0.0/24", whole!["rows"]![0]!["object"]!["spec"]!["podCIDR"]!.GetValue<string>());
        var (_, plain) = await t.SendAsync(HttpMethod.Get, Nodes + "/a", accept: "application/json");
        Assert.Equal("Node", plain!["kind"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer ")]
    [InlineData("Bearer not-a-token")]
    [InlineData("Basic YWRtaW46YWRtaW4=")]
    [InlineData("Bearer eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL2t1YmVybmV0ZXMuZGVmYXVsdC5zdmMuY2x1c3Rlci5sb2NhbCJ9.AAAA")]
    public async Task WithoutAValidTokenEveryPathIs401(string? authorization)
    {
        await using var t = await TestServer.StartAsync();
        using var http = new HttpClient(t.Server.CreateTrustingHandler()) { BaseAddress = t.Server.BaseAddress };
        if (authorization is not null) http.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", authorization);
        foreach (var path in new[] { "/healthz", "/version", "/api", "/api/v1/nodes", "/apis/nothing/v1/x" })
        {
            using var response = await http.GetAsync(path);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            var body = JsonNode.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal("""{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}""", body!.ToJsonString());
        }
    }

    [Fact]
    public async Task AnonymousAuthRunsAsSystemAnonymousUnderRbac()
    {
        await using var t = await TestServer.StartAsync(new KubeApiServerOptions { AnonymousAuth = true });
        using var http = new HttpClient(t.Server.CreateTrustingHandler()) { BaseAddress = t.Server.BaseAddress };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/version")).StatusCode);
        using var response = await http.GetAsync("/api/v1/nodes");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("nodes is forbidden: User \"system:anonymous\" cannot list resource \"nodes\" in API group \"\" at the cluster scope", body["message"]!.GetValue<string>());
        Assert.Equal("""{"group":null,"kind":"nodes"}""".Replace("\"group\":null,", ""), body["details"]!.ToJsonString());
        Assert.Equal(HttpStatusCode.Unauthorized, (await new HttpClient(t.Server.CreateTrustingHandler()) { BaseAddress = t.Server.BaseAddress, DefaultRequestHeaders = { { "Authorization", "Bearer wrong" } } }.GetAsync("/version")).StatusCode);
    }
}
