using System.Text.Json.Nodes;
using Trellis.Local.Pods;
using Trellis.Testing;
using Xunit;

namespace Trellis.Local.Tests.Pods;

/// <summary>
/// The runtime's conflist execution against witness plugins: executables that write down the
/// environment and configuration they were given, so the test reads what libcni would have passed.
/// </summary>
public sealed class CniRuntimeTests : IDisposable
{
    private const string Witness = """
        #!/bin/sh
        record="$(dirname "$0")/../record"
        mkdir -p "$record"
        me=$(basename "$0")
        cat > "$record/$CNI_COMMAND-$me.json"
        env | grep '^CNI_' | sort > "$record/$CNI_COMMAND-$me.env"
        echo "$CNI_COMMAND $me" >> "$record/order"
        if [ -e "$record/fail-$me" ]; then
          echo '{"cniVersion": "1.0.0", "code": 11, "msg": "no IP addresses available in range set"}'
          exit 1
        fi
        if [ "$CNI_COMMAND" = ADD ]; then echo "{\"cniVersion\": \"1.0.0\", \"ips\": [{\"address\": \"10.1.2.3/24\"}], \"by\": \"$me\"}"; fi
        """;

    private readonly string _root = Directory.CreateTempSubdirectory("trellis-cniruntime-").FullName;
    private string Bin => Path.Combine(_root, "bin");
    private string Record => Path.Combine(_root, "record");
    private string Conflist => Path.Combine(_root, "net.conflist");

    public CniRuntimeTests()
    {
        Directory.CreateDirectory(Bin);
        foreach (var name in new[] { "first", "second" })
        {
            File.WriteAllText(Path.Combine(Bin, name), Witness.Replace("\r", ""));
            File.SetUnixFileMode(Path.Combine(Bin, name), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        File.WriteAllText(Conflist, """
            {"cniVersion": "1.0.0", "name": "witnessnet", "plugins": [
              {"type": "first", "mtu": 1400},
              {"type": "second", "capabilities": {"portMappings": true, "bandwidth": true, "ipRanges": false}}
            ]}
            """);
    }

    private static readonly JsonObject PortMappings = JsonNode.Parse("""{"portMappings": [{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}], "ipRanges": [[{"subnet": "10.9.0.0/16"}]]}""")!.AsObject();

    private PodAttachment Attachment => new(new string('c', 64), "/run/netns/t-pod-x-a", "eth0",
        CniRuntime.KubernetesArgs("x", "a", new string('c', 64), "0d1c7d52-0c3b-4ab4-9d0e-54f1c1d1a0f1"), PortMappings);

    private JsonObject Given(string command, string plugin) => JsonNode.Parse(File.ReadAllText(Path.Combine(Record, $"{command}-{plugin}.json")))!.AsObject();

    private Dictionary<string, string> Environment(string command, string plugin) =>
        File.ReadAllLines(Path.Combine(Record, $"{command}-{plugin}.env")).Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);

    [Fact]
    public async Task Add_runs_the_list_in_order_as_libcni_does()
    {
        var result = await new CniRuntime(null, [Bin]).AddAsync(Conflist, Attachment, CancellationToken.None);
        Assert.Equal("second", (string?)result["by"]);
        Assert.Equal(["ADD first", "ADD second"], File.ReadAllLines(Path.Combine(Record, "order")));

        var first = Given("ADD", "first");
        Assert.Equal("witnessnet", (string?)first["name"]);
        Assert.Equal("1.0.0", (string?)first["cniVersion"]);
        Assert.Equal(1400, (int?)first["mtu"]);
        Assert.Null(first["prevResult"]);
        Assert.Null(first["runtimeConfig"]);

        var second = Given("ADD", "second");
        Assert.Equal("first", (string?)second["prevResult"]!["by"]);
        Assert.True(JsonNode.DeepEquals(new JsonObject { ["portMappings"] = PortMappings["portMappings"]!.DeepClone() }, second["runtimeConfig"]),
            "only the capabilities the plugin declares true, and only those given");

        var environment = Environment("ADD", "second");
        Assert.Equal("ADD", environment["CNI_COMMAND"]);
        Assert.Equal(new string('c', 64), environment["CNI_CONTAINERID"]);
        Assert.Equal("/run/netns/t-pod-x-a", environment["CNI_NETNS"]);
        Assert.Equal("eth0", environment["CNI_IFNAME"]);
        Assert.Equal(Bin, environment["CNI_PATH"]);
        Assert.Equal($"IgnoreUnknown=1;K8S_POD_NAMESPACE=x;K8S_POD_NAME=a;K8S_POD_INFRA_CONTAINER_ID={new string('c', 64)};K8S_POD_UID=0d1c7d52-0c3b-4ab4-9d0e-54f1c1d1a0f1",
            environment["CNI_ARGS"]);
    }

    [Fact]
    public async Task Del_runs_the_list_in_reverse_with_the_cached_result()
    {
        var cached = JsonNode.Parse("""{"cniVersion": "1.0.0", "ips": [{"address": "10.1.2.3/24"}]}""")!.AsObject();
        await new CniRuntime(null, [Bin]).DeleteAsync(Conflist, Attachment, cached, CancellationToken.None);
        Assert.Equal(["DEL second", "DEL first"], File.ReadAllLines(Path.Combine(Record, "order")));
        Assert.True(JsonNode.DeepEquals(cached, Given("DEL", "first")["prevResult"]));
        Assert.Equal("DEL", Environment("DEL", "first")["CNI_COMMAND"]);
    }

    [Fact]
    public async Task A_failing_plugin_is_named_with_its_network_and_message()
    {
        Directory.CreateDirectory(Record);
        File.WriteAllText(Path.Combine(Record, "fail-second"), "");
        var error = await Assert.ThrowsAsync<CniInvocationException>(() => new CniRuntime(null, [Bin]).AddAsync(Conflist, Attachment, CancellationToken.None));
        Assert.StartsWith("plugin type=\"second\" name=\"witnessnet\" failed (add): no IP addresses available in range set", error.Message);
    }

    [Fact]
    public async Task No_conflist_means_the_network_is_not_ready_and_a_missing_plugin_is_named()
    {
        var missing = await Assert.ThrowsAsync<CniInvocationException>(() => new CniRuntime(null, [Bin]).AddAsync(Path.Combine(_root, "none.conflist"), Attachment, CancellationToken.None));
        Assert.Contains("network is not ready", missing.Message);
        File.Delete(Path.Combine(Bin, "second"));
        var plugin = await Assert.ThrowsAsync<CniInvocationException>(() => new CniRuntime(null, [Bin]).AddAsync(Conflist, Attachment, CancellationToken.None));
        Assert.Contains("failed to find plugin \"second\"", plugin.Message);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
