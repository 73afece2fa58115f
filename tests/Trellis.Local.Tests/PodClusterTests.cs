using System.Diagnostics;
using System.Net;
using System.Text;
using k8s;
using k8s.Models;
using Trellis.Local.Connectivity;
using Trellis.Local.Kubelet;
using Trellis.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Trellis.Local.Tests;

/// <summary>
/// One cluster kept up for the Pod tests: 3 nodes, one seed pod each, and a pool of exactly three
/// /27 blocks (29 pod addresses per node, no spare block), so a node can be filled on purpose, and
/// yet hold the addresses two reboots leak (without reclaim, issue 12, a reboot leaks one per pod).
/// </summary>
public sealed class PodCluster : IDisposable
{
    public const string Network = """
        apiVersion: trellis.io/v1alpha1
        kind: PodNetwork
        metadata:
          name: default
        spec:
          cidrs: [10.250.0.0/26, 10.250.0.64/27]
          blockSize: {ipv4: 27}
          routing: {mode: Auto}
        """;

    private readonly string _networkFile = Path.Combine(Path.GetTempPath(), $"trellis-pod-cluster-{Guid.NewGuid():N}.yaml");
    private readonly Process _up;

    public PodCluster()
    {
        File.WriteAllText(_networkFile, Network);
        Run = new LocalClusterRun();
        _up = Run.StartUp("--nodes", "3", "--pods-per-node", "1", "--routing", "Auto", "--network", _networkFile);
        Client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(Run.Kubeconfig));
    }

    public LocalClusterRun Run { get; }
    public Kubernetes Client { get; }

    public string Apply(string yaml) => Run.Apply(yaml);

    public IList<V1Pod> Pods(string? ns = null, string? field = null) =>
        (ns is null ? Client.CoreV1.ListPodForAllNamespaces(fieldSelector: field) : Client.CoreV1.ListNamespacedPod(ns, fieldSelector: field)).Items;

    public void WaitRunning(string ns, int count) =>
        LocalClusterRun.Eventually(() => Pods(ns) is var pods && pods.Count == count && pods.All(p => PodEndpoint.From(p, out _) is not null),
            $"{count} pods in {ns} are Running with an address", 150);

    /// <summary>Every address the node's IPAM holds, in order (the plugin keeps one file per address in use, named by it).</summary>
    public IReadOnlyList<string> Addresses(string node) => Run.IpamAddresses(node);

    /// <summary>The IPAM record of an address on a node (the plugin keeps one file per address in use).</summary>
    public bool AddressHeld(string node, string address) =>
        Directory.EnumerateFiles(Path.Combine(Run.StateDirectory, "nodes", node, "lib"), address, SearchOption.AllDirectories).Any();

    public void Dispose()
    {
        Client.Dispose();
        if (!_up.HasExited) _up.Kill();
        _up.WaitForExit();
        Run.Dispose();
        File.Delete(_networkFile);
    }
}

/// <summary>
/// Pods as Kubernetes users meet them, run by trellis-local's kubelets: apply, schedule, probe, delete, reboot, failures.
/// After each, the operator and the agents (under config/rbac) have been refused nothing.
/// </summary>
public sealed class PodClusterTests(PodCluster cluster, ITestOutputHelper output) : IClassFixture<PodCluster>, IDisposable
{
    public void Dispose() => Assert.Empty(cluster.Run.RefusedRequests());

    private static string Namespace(string name) => $"""
        apiVersion: v1
        kind: Namespace
        metadata:
          name: {name}
          labels: {"{"}ns: {name}{"}"}
        """;

    /// <summary>A pod serving ports 80-82; its label pod= is its name, cut to the 63 characters a label value may have.</summary>
    private static string ServingPod(string ns, string name, string placement) => $"""
        apiVersion: v1
        kind: Pod
        metadata:
          name: {name}
          namespace: {ns}
          labels: {"{"}pod: {(name.Length <= 63 ? name : name[..63])}{"}"}
        spec:
          {placement}
          terminationGracePeriodSeconds: 30
          containers:
          - name: serve
            image: registry.k8s.io/e2e-test-images/agnhost:2.52
            ports:
            - {"{"}containerPort: 80, protocol: TCP, name: serve-80-tcp{"}"}
            - {"{"}containerPort: 80, protocol: UDP, name: serve-80-udp{"}"}
            - {"{"}containerPort: 81, protocol: TCP, name: serve-81-tcp{"}"}
            - {"{"}containerPort: 81, protocol: UDP, name: serve-81-udp{"}"}
            - {"{"}containerPort: 82, protocol: SCTP, name: serve-82-sctp{"}"}
        """;

    [Fact]
    public async Task Applied_pods_are_scheduled_run_and_answer_every_pod_on_every_port()
    {
        cluster.Apply(string.Join("\n---\n",
            Namespace("x"),
            ServingPod("x", "a", "nodeName: node1"),
            ServingPod("x", "b", "nodeSelector: {kubernetes.io/hostname: node2}"),
            ServingPod("x", "c", "nodeSelector: {kubernetes.io/hostname: node3}"),
            ServingPod("x", "d", ""),
            ServingPod("x", "e", "")));
        cluster.WaitRunning("x", 5);

        var pods = cluster.Pods("x").ToDictionary(p => p.Metadata.Name);
        Assert.Equal("node1", pods["a"].Spec.NodeName);
        Assert.Equal("node2", pods["b"].Spec.NodeName);
        Assert.Equal("node3", pods["c"].Spec.NodeName);
        Assert.All(pods.Values, p => Assert.Contains(p.Status.Conditions, c => c.Type == "Ready" && c.Status == "True"));
        Assert.Equal(5, pods.Values.Select(p => p.Status.PodIP).Distinct().Count());
        Assert.All(pods.Values, p => Assert.StartsWith("10.250.0.", p.Status.PodIP));

        // Every pod (the seed pods too) to every other, TCP and UDP on every port it declares: 182 probes at once.
        var endpoints = (await ClusterPods.ListAsync(cluster.Client, CancellationToken.None)).Where(e => e.Namespace is "x" or "default").ToList();
        Assert.Equal(8, endpoints.Count);
        var probes = (from source in endpoints
                      from target in endpoints.Where(t => t.Key != source.Key)
                      from port in target.Ports.Where(p => p.Protocol != "SCTP")
                      select (source, target, port, result: PodProber.ProbeAsync(source, target, port.Port, port.Protocol, TimeSpan.FromSeconds(3), CancellationToken.None))).ToList();
        await Task.WhenAll(probes.Select(p => p.result));
        var failures = probes.Where(p => !(p.result.Result.Connected && p.result.Result.Detail == p.target.Key))
            .Select(p => $"{p.source.Key} → {p.target.Key} {p.port}: {p.result.Result}").ToList();
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Equal(5 * 7 * 4 + 3 * 7 * 2, probes.Count);

        var sctp = await PodProber.ProbeAsync(cluster.Client, "x/a", "x/b", 82, "SCTP", TimeSpan.FromSeconds(1), CancellationToken.None);
        Assert.Equal(ProbeOutcome.Unsupported, sctp.Outcome);
        Assert.Contains(cluster.Client.CoreV1.ListNamespacedEvent("x", fieldSelector: "involvedObject.name=a").Items,
            e => e.Reason == "PortNotServed" && e.Message.Contains("82/SCTP") && e.Message.Contains("SCTP is not offered by this kernel"));

        var cli = cluster.Run.Run("probe", "x/a", "x/c", "--port", "81", "--protocol", "UDP");
        output.WriteLine(cli.StandardOutput + cli.StandardError);
        Assert.True(cli.Succeeded, cli.StandardError);
        Assert.Contains("answered \"x/c\"", cli.StandardOutput);
        var closed = cluster.Run.Run("probe", "x/a", "x/c", "--port", "9");
        Assert.Equal(1, closed.ExitCode);
        Assert.Contains("refused", closed.StandardOutput);

        var status = cluster.Run.Run("status", "--ports", "--port", "81", "--protocol", "UDP", "--json");
        Assert.True(status.Succeeded, status.StandardError + status.StandardOutput);
        var matrix = LocalClusterRun.ParseJson(status)["ports"]!.AsArray().Single()!;
        Assert.Equal(81, (int)matrix["port"]!);
        Assert.Equal("UDP", (string?)matrix["protocol"]);
        Assert.True((int)matrix["probed"]! >= 5 * 4, $"every x pod probed by the others: {matrix.ToJsonString()}");
        Assert.Equal((int)matrix["probed"]!, (int)matrix["answered"]!);

        // Applied again with a new label the pod keeps its sandbox; with another port it is refused, as pod specs are immutable.
        var sandbox = PodStatusReport.Annotation(pods["a"].Metadata, PodStatusReport.SandboxAnnotation);
        cluster.Apply(ServingPod("x", "a", "nodeName: node1").Replace("labels: {pod: a}", "labels: {pod: a, tier: web}"));
        var relabelled = cluster.Client.CoreV1.ReadNamespacedPod("a", "x");
        Assert.Equal("web", relabelled.Metadata.Labels["tier"]);
        Assert.Equal(sandbox, PodStatusReport.Annotation(relabelled.Metadata, PodStatusReport.SandboxAnnotation));
        var refused = Assert.Throws<InvalidOperationException>(() => cluster.Apply(ServingPod("x", "a", "nodeName: node1").Replace("containerPort: 81, protocol: TCP", "containerPort: 8081, protocol: TCP")));
        Assert.Contains("pod updates may not change fields", refused.Message);

        var wide = cluster.Run.Kubectl("get", "pods", "-A", "-o", "wide");
        output.WriteLine(wide);
        foreach (var pod in pods.Values)
            Assert.Matches($@"(?m)^x\s+{pod.Metadata.Name}\s+1/1\s+Running\s+0\s+\S+\s+{pod.Status.PodIP.Replace(".", "\\.")}\s+{pod.Spec.NodeName}\s", wide);
    }

    [Fact]
    public async Task Pods_whose_names_meet_or_do_not_fit_get_sandboxes_and_an_unschedulable_pod_waits_for_a_node()
    {
        var longName = "l" + new string('o', 251) + "g";
        cluster.Apply(string.Join("\n---\n", Namespace("a-b"), Namespace("a"),
            ServingPod("a-b", "c", "nodeName: node1"), ServingPod("a", "b-c", "nodeName: node1"), ServingPod("a", longName, "nodeName: node1"),
            ServingPod("a", "picky", "nodeSelector: {trellis.io/test-zone: z}")));
        cluster.WaitRunning("a-b", 1);
        LocalClusterRun.Eventually(() => cluster.Pods("a").Count(p => PodEndpoint.From(p, out _) is not null) == 2, "a/b-c and the long-named pod run", 120);

        var netns = new[] { ("a-b", "c"), ("a", "b-c"), ("a", longName) }
            .Select(p => Path.GetFileName(PodStatusReport.Annotation(cluster.Client.CoreV1.ReadNamespacedPod(p.Item2, p.Item1).Metadata, PodStatusReport.NetnsAnnotation)!)).ToList();
        Assert.Equal(3, netns.Distinct().Count());
        Assert.Contains($"{cluster.Run.Prefix}-pod-a-b-c", netns);
        Assert.All(netns, n => Assert.True(n.Length <= 255 && NamespaceExists(n), n));
        var from = await ClusterPods.GetAsync(cluster.Client, "default/node2-pod1", CancellationToken.None);
        foreach (var key in new[] { "a-b/c", "a/b-c", $"a/{longName}" })
        {
            var result = await PodProber.ProbeAsync(from, await ClusterPods.GetAsync(cluster.Client, key, CancellationToken.None), 81, "UDP", TimeSpan.FromSeconds(3), CancellationToken.None);
            Assert.Equal(key, result.Detail);
        }

        LocalClusterRun.Eventually(() => cluster.Client.CoreV1.ListNamespacedEvent("a", fieldSelector: "involvedObject.name=picky").Items
            .Any(e => e.Reason == "FailedScheduling" && e.Message.StartsWith("0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector")), "picky cannot be scheduled", 30);
        var picky = cluster.Client.CoreV1.ReadNamespacedPod("picky", "a");
        Assert.Null(picky.Spec.NodeName);
        Assert.Contains(picky.Status.Conditions, c => c.Type == "PodScheduled" && c.Status == "False" && c.Reason == "Unschedulable");
        cluster.Run.Kubectl("label", "node", "node3", "trellis.io/test-zone=z");
        LocalClusterRun.Eventually(() => cluster.Client.CoreV1.ReadNamespacedPod("picky", "a") is var pod && pod.Spec.NodeName == "node3" && PodEndpoint.From(pod, out _) is not null,
            "picky runs on node3 once node3 has its label", 60);
        cluster.Run.Kubectl("delete", "namespace", "a", "a-b", "--wait=false");
    }

    [Fact]
    public void Deleted_pods_free_their_namespace_and_address_gracefully_or_by_force()
    {
        cluster.Apply(string.Join("\n---\n", Namespace("del"), ServingPod("del", "graceful", "nodeName: node3"), ServingPod("del", "forced", "nodeName: node3")));
        cluster.WaitRunning("del", 2);
        var pods = cluster.Pods("del").ToDictionary(p => p.Metadata.Name);

        using var watch = KubectlWatch("get", "pods", "-n", "del", "-w");
        LocalClusterRun.Eventually(() => watch.Output.Contains("graceful") && watch.Output.Contains("forced"), "kubectl get pods -w lists the pods", 30);
        foreach (var (name, arguments) in new[] { ("graceful", Array.Empty<string>()), ("forced", new[] { "--force", "--grace-period=0" }) })
        {
            var pod = pods[name];
            var netns = Path.GetFileName(PodStatusReport.Annotation(pod.Metadata, PodStatusReport.NetnsAnnotation)!);
            Assert.True(NamespaceExists(netns), $"{netns} exists while {name} runs");
            Assert.True(cluster.AddressHeld("node3", pod.Status.PodIP), $"{pod.Status.PodIP} is on record while {name} runs");

            var deleted = cluster.Run.Kubectl(["delete", "pod", "-n", "del", name, .. arguments]);
            Assert.Contains($"pod \"{name}\"", deleted);
            LocalClusterRun.Eventually(() => !NamespaceExists(netns) && !cluster.AddressHeld("node3", pod.Status.PodIP),
                $"{name}'s namespace {netns} and address {pod.Status.PodIP} are freed", 60);
            Assert.DoesNotContain(cluster.Pods("del"), p => p.Metadata.Name == name);
        }
        LocalClusterRun.Eventually(() => System.Text.RegularExpressions.Regex.IsMatch(watch.Output, @"(?m)^graceful\s+\S+\s+Terminating"),
            "kubectl get pods -w shows the pod Terminating", 30);
        output.WriteLine(watch.Output);
    }

    [Fact]
    public async Task Reboots_in_a_row_and_at_once_give_every_pod_of_the_node_a_new_sandbox()
    {
        cluster.Apply(string.Join("\n---\n", Namespace("reboot"), ServingPod("reboot", "r1", "nodeName: node2"), ServingPod("reboot", "r2", "nodeName: node2")));
        cluster.WaitRunning("reboot", 2);
        var sandboxes = new HashSet<string>(cluster.Pods(field: "spec.nodeName=node2").Select(p => PodStatusReport.Annotation(p.Metadata, PodStatusReport.SandboxAnnotation)!));
        // The node's persistent state (/var/lib on a real node: the agent's and the plugin's records) survives a power cut;
        // its /run (the kubelet's sandbox records) does not.
        var nodeDirectory = Path.Combine(cluster.Run.StateDirectory, "nodes", "node2");
        var persistent = Path.Combine(nodeDirectory, "lib", "survives-reboot");
        var volatileFile = Path.Combine(nodeDirectory, "run", "gone-after-reboot");
        File.WriteAllText(persistent, "kept");
        File.WriteAllText(volatileFile, "lost");
        var reboots = 0;
        foreach (var atOnce in new[] { 1, 1, 2 })
        {
            // Two reboots asked for at once take turns on the node's lock; neither undoes the other's boot.
            var results = await Task.WhenAll(Enumerable.Range(0, atOnce).Select(_ => Task.Run(() => cluster.Run.Run("node", "reboot", "node2"))));
            foreach (var result in results)
            {
                output.WriteLine(result.StandardOutput + result.StandardError);
                Assert.True(result.Succeeded, result.StandardError + result.StandardOutput);
            }
            reboots += atOnce;
            var pods = cluster.Pods(field: "spec.nodeName=node2");
            Assert.True(pods.Count >= 3, $"node2 runs its seed pod, r1 and r2, not {pods.Count} pods");
            foreach (var pod in pods)
            {
                Assert.True(PodEndpoint.From(pod, out var why) is not null, why);
                Assert.True(sandboxes.Add(PodStatusReport.Annotation(pod.Metadata, PodStatusReport.SandboxAnnotation)!), $"{pod.Metadata.Name} got a new sandbox ID after reboot {reboots}");
                Assert.Equal(reboots, pod.Status.ContainerStatuses[0].RestartCount);
            }
        }
        Assert.Equal("kept", File.ReadAllText(persistent));
        Assert.False(File.Exists(volatileFile), "node2's run/ outlived its reboots");
        File.Delete(persistent);
        var from = await ClusterPods.GetAsync(cluster.Client, "default/node1-pod1", CancellationToken.None);
        foreach (var pod in cluster.Pods(field: "spec.nodeName=node2"))
        {
            var target = PodEndpoint.From(pod, out _)!;
            var result = await PodProber.ProbeAsync(from, target, 80, "TCP", TimeSpan.FromSeconds(3), CancellationToken.None);
            Assert.True(result.Connected && result.Detail == target.Key, $"{target.Key} after {reboots} reboots: {result}");
        }
    }

    [Fact]
    public async Task A_restarted_kubelet_takes_over_its_sandboxes_and_one_killed_mid_change_leaves_nothing_behind()
    {
        cluster.Apply(string.Join("\n---\n", Namespace("crash"), ServingPod("crash", "keep", "nodeName: node3"), $$"""
            apiVersion: v1
            kind: Pod
            metadata: {name: host, namespace: crash}
            spec:
              nodeName: node3
              hostNetwork: true
              containers:
              - name: serve
                image: registry.k8s.io/e2e-test-images/agnhost:2.52
                ports: [{containerPort: 8080, protocol: TCP}, {containerPort: 8080, protocol: UDP}]
            """));
        cluster.WaitRunning("crash", 2);
        var before = cluster.Pods("crash").Single(p => p.Metadata.Name == "keep");

        Assert.True(cluster.Run.Run("node", "stop", "node3", "kubelet").Succeeded);
        Assert.True(cluster.Run.Run("node", "start", "node3", "kubelet").Succeeded);
        var from = await ClusterPods.GetAsync(cluster.Client, "default/node1-pod1", CancellationToken.None);
        var target = PodEndpoint.From(before, out _)!;
        LocalClusterRun.Eventually(() => PodProber.ProbeAsync(from, target, 80, "UDP", TimeSpan.FromSeconds(1), CancellationToken.None).Result.Detail == "crash/keep",
            "the restarted kubelet serves crash/keep again", 60);
        var after = cluster.Pods("crash").Single(p => p.Metadata.Name == "keep");
        Assert.Equal(PodStatusReport.Annotation(before.Metadata, PodStatusReport.SandboxAnnotation), PodStatusReport.Annotation(after.Metadata, PodStatusReport.SandboxAnnotation));
        Assert.Equal(before.Status.PodIP, after.Status.PodIP);

        // Pods come and go while the kubelet is killed at different moments of that work, then started again.
        var round = 0;
        foreach (var delay in new[] { 0, 100, 250, 500, 1000, 2000 })
        {
            round++;
            cluster.Apply(string.Join("\n---\n", Enumerable.Range(1, 3).Select(i => ServingPod("crash", $"r{round}-{i}", "nodeName: node3"))));
            if (round > 1) cluster.Run.Kubectl("delete", "pod", "-n", "crash", $"r{round - 1}-1", $"r{round - 1}-2", "--wait=false");
            Thread.Sleep(delay);
            Assert.True(cluster.Run.Run("node", "stop", "node3", "kubelet", "--kill").Succeeded);
            Assert.True(cluster.Run.Run("node", "start", "node3", "kubelet").Succeeded);
        }
        LocalClusterRun.Eventually(() => cluster.Pods("crash") is var pods && pods.Count == 2 + 6 * 3 - 5 * 2 && pods.All(p => PodEndpoint.From(p, out _) is not null),
            "every pod left in crash is Running", 150);

        // The hostNetwork pod has the node's address and answers there, from the node's namespace; it never went through CNI.
        var host = PodEndpoint.From(cluster.Client.CoreV1.ReadNamespacedPod("host", "crash"), out _)!;
        Assert.Equal(IPAddress.Parse("192.168.1.13"), host.Addresses.Single());
        Assert.Equal($"/run/netns/{cluster.Run.Prefix}-node3", host.NamespacePath);
        // Its responder lives in the kubelet, so the last restart brings it back a moment after the pod reads Running.
        LocalClusterRun.Eventually(() => PodProber.ProbeAsync(from, host, 8080, "UDP", TimeSpan.FromSeconds(1), CancellationToken.None).Result.Detail == "crash/host",
            "the restarted kubelet serves crash/host on the node's address", 60);

        // Converged: each running pod has its one sandbox, no sandbox is left without a pod, and node3's IPAM holds exactly its pods' addresses.
        var running = cluster.Pods().Where(p => PodEndpoint.From(p, out _) is not null).ToList();
        var expected = running.Select(p => Path.GetFileName(PodStatusReport.Annotation(p.Metadata, PodStatusReport.NetnsAnnotation)!))
            .Where(n => n.StartsWith($"{cluster.Run.Prefix}-pod-", StringComparison.Ordinal)).Order().ToList();
        LocalClusterRun.Eventually(() => SandboxNamespaces().SequenceEqual(expected), $"the sandbox namespaces are those of the running pods ({string.Join(", ", expected)})", 60);
        var node3 = running.Where(p => p.Spec.NodeName == "node3" && p.Spec.HostNetwork != true).Select(p => p.Status.PodIP).Order().ToList();
        LocalClusterRun.Eventually(() => cluster.Addresses("node3").SequenceEqual(node3),
            $"node3's IPAM holds exactly its pods' addresses ({string.Join(", ", node3)}), not {string.Join(", ", cluster.Addresses("node3"))}", 60);
    }

    private IReadOnlyList<string> SandboxNamespaces() =>
        Directory.GetFiles("/run/netns").Select(Path.GetFileName).OfType<string>().Where(n => n.StartsWith($"{cluster.Run.Prefix}-pod-", StringComparison.Ordinal)).Order().ToList();

    [Fact]
    public void A_pod_whose_ADD_fails_stays_Pending_with_an_Event_and_starts_once_the_cause_is_gone()
    {
        // node1's /27 holds 29 pod addresses and the pool has no block to spare: 30 more pods cannot all start.
        const int Fillers = 30;
        cluster.Apply(string.Join("\n---\n", [Namespace("full"), .. Enumerable.Range(1, Fillers).Select(i => ServingPod("full", $"f{i}", "nodeName: node1"))]));
        LocalClusterRun.Eventually(() => cluster.Pods("full").Count(p => PodEndpoint.From(p, out _) is not null) + cluster.Pods(field: "spec.nodeName=node1").Count(p => p.Metadata.NamespaceProperty != "full") == 29,
            "node1's block is full", 180);
        var pending = cluster.Pods("full").Where(p => PodEndpoint.From(p, out _) is null).ToList();
        Assert.NotEmpty(pending);
        foreach (var pod in pending)
        {
            Assert.Equal("Pending", pod.Status.Phase);
            Assert.Null(pod.Status.PodIP);
            LocalClusterRun.Eventually(() => cluster.Client.CoreV1.ListNamespacedEvent("full", fieldSelector: $"involvedObject.name={pod.Metadata.Name}").Items
                .Any(e => e.Reason == "FailedCreatePodSandBox" && e.Type == "Warning" && e.Message.Contains("plugin type=\"trellis-cni\"") && e.Message.Contains("no free address")),
                $"{pod.Metadata.Name} has a FailedCreatePodSandBox event naming the error", 30);
        }
        var described = cluster.Run.Kubectl("describe", "pod", "-n", "full", pending[0].Metadata.Name);
        output.WriteLine(described);
        Assert.Contains("FailedCreatePodSandBox", described);

        // Each retry is a new sandbox, as kubelet makes one: every failure names another sandbox (and CNI container) ID.
        var retried = pending[0].Metadata.Name;
        LocalClusterRun.Eventually(() => FailedSandboxIds("full", retried).Count >= 2, $"{retried} was retried with a second sandbox", 60);
        var failedIds = FailedSandboxIds("full", retried);

        // The cause goes: as many running pods are deleted as wait, and the waiting ones start on the next retry.
        var running = cluster.Pods("full").Where(p => PodEndpoint.From(p, out _) is not null).Take(pending.Count).ToList();
        foreach (var pod in running) cluster.Run.Kubectl("delete", "pod", "-n", "full", pod.Metadata.Name, "--wait=false");
        foreach (var pod in pending)
            LocalClusterRun.Eventually(() => cluster.Pods("full").SingleOrDefault(p => p.Metadata.Name == pod.Metadata.Name) is { } now && PodEndpoint.From(now, out _) is not null,
                $"{pod.Metadata.Name} runs once addresses are free", 90);
        var started = PodStatusReport.Annotation(cluster.Pods("full").Single(p => p.Metadata.Name == retried).Metadata, PodStatusReport.SandboxAnnotation)!;
        Assert.DoesNotContain(started[..12], FailedSandboxIds("full", retried));
        Assert.Equal(failedIds.Count, failedIds.Distinct().Count());
        cluster.Run.Kubectl("delete", "namespace", "full", "--wait=false");
    }

    /// <summary>The sandbox IDs (their first 12 characters, as kubelet prints them) that the pod's FailedCreatePodSandBox Events name.</summary>
    private List<string> FailedSandboxIds(string ns, string pod) =>
        cluster.Client.CoreV1.ListNamespacedEvent(ns, fieldSelector: $"involvedObject.name={pod}").Items
            .Where(e => e.Reason == "FailedCreatePodSandBox")
            .Select(e => System.Text.RegularExpressions.Regex.Match(e.Message, "sandbox \"([0-9a-f]{12})\"")).Where(m => m.Success).Select(m => m.Groups[1].Value)
            .ToList();

    private static bool NamespaceExists(string name) => File.Exists(Path.Combine("/run/netns", name));

    private KubectlProcess KubectlWatch(params string[] arguments) => new(cluster.Run.Kubeconfig, arguments);

    /// <summary>A long-running kubectl (a watch) whose output is collected as it comes.</summary>
    private sealed class KubectlProcess : IDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _output = new();

        public KubectlProcess(string kubeconfig, string[] arguments)
        {
            var info = new ProcessStartInfo("kubectl") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { "--kubeconfig", kubeconfig }.Concat(arguments)) info.ArgumentList.Add(a);
            _process = Process.Start(info)!;
            _process.OutputDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
            _process.ErrorDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public string Output { get { lock (_output) return _output.ToString(); } }

        public void Dispose()
        {
            if (!_process.HasExited) _process.Kill();
            _process.WaitForExit();
            _process.Dispose();
        }
    }
}
