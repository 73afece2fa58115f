using k8s.Models;
using Trellis.Netlink;
using Trellis.NetworkPolicy.Applying;
using Trellis.NetworkPolicy.Compiling;
using Trellis.NetworkPolicy.Facts;
using Trellis.NetworkPolicy.Ruleset;
using Trellis.NodeAgent.NetworkPolicy;
using Trellis.Testing;

namespace Trellis.NodeAgent.Tests.NetworkPolicy;

public sealed class PolicyAgentPartsTests
{
    private static V1Pod Pod(Action<V1Pod>? change = null)
    {
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "a", NamespaceProperty = "x", Labels = new Dictionary<string, string> { ["app"] = "web" }, ResourceVersion = "1" },
            Spec = new V1PodSpec { NodeName = "node1", Containers = [new V1Container { Name = "c", Ports = [new V1ContainerPort { Name = "http", ContainerPort = 80 }] }] },
            Status = new V1PodStatus { Phase = "Running", PodIP = "10.0.0.1", PodIPs = [new V1PodIP { Ip = "10.0.0.1" }] },
        };
        change?.Invoke(pod);
        return pod;
    }

    [Fact]
    public void OnlyPodChangesThatPoliciesCanSeeCountAsChanges()
    {
        var before = PolicyRelevance.Of(Pod());
        // What kubelets rewrite all the time changes nothing.
        Assert.Equal(before, PolicyRelevance.Of(Pod(p =>
        {
            p.Metadata.ResourceVersion = "2";
            p.Status.Conditions = [new V1PodCondition { Type = "Ready", Status = "True" }];
            p.Status.StartTime = DateTime.UtcNow;
            p.Metadata.Annotations = new Dictionary<string, string> { ["note"] = "x" };
        })));
        Assert.NotEqual(before, PolicyRelevance.Of(Pod(p => p.Metadata.Labels["app"] = "db")));
        Assert.NotEqual(before, PolicyRelevance.Of(Pod(p => p.Status.PodIPs = [new V1PodIP { Ip = "10.0.0.2" }])));
        Assert.NotEqual(before, PolicyRelevance.Of(Pod(p => p.Status.Phase = "Succeeded")));
        Assert.NotEqual(before, PolicyRelevance.Of(Pod(p => p.Spec.NodeName = "node2")));
        Assert.NotEqual(before, PolicyRelevance.Of(Pod(p => p.Spec.HostNetwork = true)));
        Assert.NotEqual(before, PolicyRelevance.Of(Pod(p => p.Spec.Containers[0].Ports[0].ContainerPort = 8080)));
        // Label order is not a change.
        var one = new V1Namespace { Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" } } };
        var other = new V1Namespace { Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["b"] = "2", ["a"] = "1" } } };
        Assert.Equal(PolicyRelevance.Of(one), PolicyRelevance.Of(other));
    }

    [Fact]
    public void MetricsNameThePolicyAndDirectionOfEveryDropCounter()
    {
        var policy = new V1NetworkPolicy
        {
            Metadata = new V1ObjectMeta { Name = "deny\"all", NamespaceProperty = "x" },
            Spec = new V1NetworkPolicySpec { PodSelector = new V1LabelSelector(), PolicyTypes = ["Ingress", "Egress"] },
        };
        var compiled = PolicyCompiler.Compile(PolicyInputs.Parse([policy], [], [Pod()]), "node1");
        var enforcement = new PolicyEnforcement(compiled, TableWrite.Replaced, DateTimeOffset.FromUnixTimeSeconds(1_700_000_000), 12, 34, null);
        var counters = compiled.Counters.ToDictionary(c => c.Counter, c => new CounterValue(c.Direction == PolicyDirection.Ingress ? 7 : 0, 420));
        var text = RenderPolicyMetrics("node1", enforcement, counters);
        Assert.Contains("trellis_networkpolicy_dropped_packets_total{namespace=\"x\",policy=\"deny\\\"all\",direction=\"ingress\",node=\"node1\"} 7\n", text);
        Assert.Contains("trellis_networkpolicy_dropped_packets_total{namespace=\"x\",policy=\"deny\\\"all\",direction=\"egress\",node=\"node1\"} 0\n", text);
        Assert.Contains("# TYPE trellis_networkpolicy_dropped_bytes_total counter\n", text);
        Assert.Contains("trellis_networkpolicy_enforcing{node=\"node1\"} 1\n", text);
        Assert.Contains("trellis_networkpolicy_bridge_filtered{node=\"node1\"} 1\n", text);
        Assert.Contains("trellis_networkpolicy_last_write_timestamp_seconds{node=\"node1\"} 1700000000\n", text);
        Assert.Contains("# HELP trellis_networkpolicy_enforcing 1 once the node's policy table has been written from synced caches.\n# TYPE trellis_networkpolicy_enforcing gauge\ntrellis_networkpolicy_enforcing{node=\"n\"} 0\n",
            RenderPolicyMetrics("n", null, new Dictionary<string, CounterValue>()));
    }

    [Fact]
    public void A_replaced_table_restarts_its_drop_counters_and_a_removed_policy_leaves_no_series()
    {
        var policy = new V1NetworkPolicy
        {
            Metadata = new V1ObjectMeta { Name = "deny", NamespaceProperty = "x" },
            Spec = new V1NetworkPolicySpec { PodSelector = new V1LabelSelector(), PolicyTypes = ["Ingress"] },
        };
        var compiled = PolicyCompiler.Compile(PolicyInputs.Parse([policy], [], [Pod()]), "node1");
        var enforcement = new PolicyEnforcement(compiled, TableWrite.Replaced, DateTimeOffset.FromUnixTimeSeconds(1_700_000_000), 1, 1, null);
        var registry = Prometheus.Metrics.NewCustomRegistry();
        var metrics = new PolicyMetrics(Prometheus.Metrics.WithCustomRegistry(registry));
        metrics.Update(enforcement, compiled.Counters.ToDictionary(c => c.Counter, _ => new CounterValue(9, 900)));
        Assert.Contains("direction=\"ingress\"} 9\n", Export(registry));
        metrics.Update(enforcement, compiled.Counters.ToDictionary(c => c.Counter, _ => new CounterValue(2, 200)));
        Assert.Contains("direction=\"ingress\"} 2\n", Export(registry));
        var none = PolicyCompiler.Compile(PolicyInputs.Parse([], [], [Pod()]), "node1");
        metrics.Update(enforcement with { Compiled = none }, new Dictionary<string, CounterValue>());
        Assert.DoesNotContain("trellis_networkpolicy_dropped_packets_total{", Export(registry));
    }

    private static string RenderPolicyMetrics(string node, PolicyEnforcement? enforcement, IReadOnlyDictionary<string, CounterValue> counters)
    {
        var registry = Prometheus.Metrics.NewCustomRegistry();
        registry.SetStaticLabels(new Dictionary<string, string> { ["node"] = node });
        new PolicyMetrics(Prometheus.Metrics.WithCustomRegistry(registry)).Update(enforcement, counters);
        return Export(registry);
    }

    private static string Export(Prometheus.CollectorRegistry registry)
    {
        using var stream = new MemoryStream();
        registry.CollectAndExportAsTextAsync(stream).GetAwaiter().GetResult();
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    [Fact]
    public void TheAgentTurnsBridgeNetfilterOnInItsNamespace()
    {
        using var node = NetworkNamespace.Create("np-bridge-nf");
        node.Exec("sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=0", "net.bridge.bridge-nf-call-ip6tables=0");
        var problem = NetworkNamespaceRunner.Run(node.Path, BridgeNetfilter.Ensure);
        Assert.Null(problem);
        Assert.Equal("1", node.Exec("sysctl", "-n", "net.bridge.bridge-nf-call-iptables").Trim());
        Assert.Equal("1", node.Exec("sysctl", "-n", "net.bridge.bridge-nf-call-ip6tables").Trim());
    }

    [Fact]
    public void MetricsPortIsChecked()
    {
        var source = Path.GetTempFileName();
        try
        {
            var result = new AgentOptionsValidator().Validate(new AgentOptions { NodeName = "n", CniPluginSource = source, MetricsPort = 70000 });
            Assert.Contains(result.Errors, f => f.ErrorMessage.Contains("--metrics-port 70000"));
            Assert.True(new AgentOptionsValidator().Validate(new AgentOptions { NodeName = "n", CniPluginSource = source, MetricsPort = 0 }).IsValid);
        }
        finally
        {
            File.Delete(source);
        }
    }
}
