using System.Text.Json.Nodes;
using Trellis.ApiServer.Tests.Server;
using Trellis.Testing;
using Xunit.Abstractions;

namespace Trellis.ApiServer.Tests.Clients;

/// <summary>A second real client: the official Python client (Debian's python3-kubernetes) lists, watches, creates and patches PodNetworks.</summary>
public sealed class PythonClientTests(ITestOutputHelper output)
{
    private const string Script = """
        import json, sys, threading
        from kubernetes import client, config, watch
        from kubernetes.client.rest import ApiException

        config.load_kube_config(config_file=sys.argv[1])
        api = client.CustomObjectsApi()
        group, version, plural = "trellis.io", "v1alpha1", "podnetworks"
        out = {}
        events = []
        started = threading.Event()

        def follow():
            w = watch.Watch()
            started.set()
            for event in w.stream(api.list_cluster_custom_object, group, version, plural, timeout_seconds=5):
                events.append([event["type"], event["object"]["metadata"]["name"], event["object"]["spec"].get("mtu")])
                if event["type"] == "DELETED":
                    w.stop()

        listed = api.list_cluster_custom_object(group, version, plural)
        follower = threading.Thread(target=follow)
        follower.start()
        started.wait()
        created = api.create_cluster_custom_object(group, version, plural, {
            "apiVersion": "trellis.io/v1alpha1", "kind": "PodNetwork",
            "metadata": {"name": "from-python"}, "spec": {"cidrs": ["10.230.0.0/16"]}})
        out["created"] = [created["metadata"]["name"], created["spec"]["blockSize"]["ipv4"], created["spec"]["routing"]["mode"]]
        patched = api.patch_cluster_custom_object(group, version, plural, "from-python", {"spec": {"mtu": 1450}})
        out["patched"] = patched["spec"]["mtu"]
        try:
            api.patch_cluster_custom_object(group, version, plural, "from-python", {"spec": {"mtu": 50}})
        except ApiException as e:
            out["refused"] = [e.status, json.loads(e.body)["details"]["causes"][0]["field"]]
        out["names"] = [i["metadata"]["name"] for i in api.list_cluster_custom_object(group, version, plural)["items"]]
        out["before"] = len(listed["items"])
        api.delete_cluster_custom_object(group, version, plural, "from-python")
        follower.join(10)
        out["events"] = events
        try:
            client.CoreV1Api().list_namespaced_pod("default", _request_timeout=5)
            out["pods"] = "listed"
        except ApiException as e:
            out["pods"] = e.status
        print(json.dumps(out))
        """;

    /// <summary>Debian's interpreter, which Debian's client is installed for (a python3 earlier on PATH may be another).</summary>
    private const string Python = "/usr/bin/python3";

    [Fact]
    public async Task OfficialPythonClientListsWatchesCreatesAndPatches()
    {
        if (Shell.Run(Python, "-c", "import kubernetes").ExitCode != 0)
            throw new InvalidOperationException("the Python client is missing: apt-get install python3-kubernetes (scripts/install-deps.sh installs it)");
        await using var t = await TestServer.StartAsync();
        await TrellisCrds.RegisterAsync(t.Client);
        var directory = Directory.CreateTempSubdirectory("trellis-python-");
        try
        {
            var kubeconfig = Path.Combine(directory.FullName, "kubeconfig");
            t.Server.WriteKubeconfig(kubeconfig);
            var script = Path.Combine(directory.FullName, "client.py");
            File.WriteAllText(script, Script);
            var result = Shell.Run(Python, [script, kubeconfig], timeout: TimeSpan.FromMinutes(1));
            output.WriteLine(result.StandardOutput + result.StandardError);
            Assert.True(result.ExitCode == 0, result.StandardError);
            var answers = JsonNode.Parse(result.StandardOutput)!;
            Assert.Equal("""["from-python",24,"Auto"]""", answers["created"]!.ToJsonString());
            Assert.Equal(1450, answers["patched"]!.GetValue<int>());
            Assert.Equal("""[422,"spec.mtu"]""", answers["refused"]!.ToJsonString());
            Assert.Equal("""["from-python"]""", answers["names"]!.ToJsonString());
            Assert.Equal(0, answers["before"]!.GetValue<int>());
            Assert.Equal("""[["ADDED","from-python",0],["MODIFIED","from-python",1450],["DELETED","from-python",1450]]""", answers["events"]!.ToJsonString());
            Assert.Equal("listed", answers["pods"]!.GetValue<string>());
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
