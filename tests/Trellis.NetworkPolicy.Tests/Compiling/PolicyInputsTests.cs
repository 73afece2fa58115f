using k8s.Models;
using Trellis.NetworkPolicy.Facts;
using static Trellis.NetworkPolicy.Tests.Model.PolicyObjects;

namespace Trellis.NetworkPolicy.Tests.Compiling;

public sealed class PolicyInputsTests
{
    private static readonly Dictionary<string, string> NoLabels = [];

    [Fact]
    public void OnlyPodsOnThePodNetworkWithAnAddressCanBeSelectedOrAllowed()
    {
        var running = Pod("x", "running", NoLabels, "n1", ["10.0.0.1"]);
        var host = Pod("x", "host", NoLabels, "n1", ["192.168.1.11"]);
        host.Spec.HostNetwork = true;
        var done = Pod("x", "done", NoLabels, "n1", ["10.0.0.2"]);
        done.Status.Phase = "Succeeded";
        var failed = Pod("x", "failed", NoLabels, "n1", ["10.0.0.3"]);
        failed.Status.Phase = "Failed";
        var pending = Pod("x", "pending", NoLabels, "n1", []);
        var unscheduled = Pod("x", "unscheduled", NoLabels, "", ["10.0.0.4"]);
        var inputs = PolicyInputs.Parse([], [], [running, host, done, failed, pending, unscheduled]);
        Assert.Equal("x/running", Assert.Single(inputs.Pods).Key);
        Assert.Empty(inputs.Problems);
    }

    [Fact]
    public void PodIpsComeFromPodIpsOrElsePodIpAndBadOnesAreNamed()
    {
        var dual = Pod("x", "dual", NoLabels, "n1", ["10.0.0.1", "fd00::1"]);
        var single = Pod("x", "single", NoLabels, "n1", []);
        single.Status.PodIP = "10.0.0.2";
        var bad = Pod("x", "bad", NoLabels, "n1", ["10.0.0.3", "10.0.0.300", "10.0.0.0/24"]);
        var inputs = PolicyInputs.Parse([], [], [dual, single, bad]);
        Assert.Equal(["10.0.0.3"], inputs.Pods.Single(p => p.Name == "bad").Addresses.Select(a => a.ToString()));
        Assert.Equal(["10.0.0.1", "fd00::1"], inputs.Pods.Single(p => p.Name == "dual").Addresses.Select(a => a.ToString()));
        Assert.Equal(["10.0.0.2"], inputs.Pods.Single(p => p.Name == "single").Addresses.Select(a => a.ToString()));
        Assert.Equal(2, inputs.Problems.Count);
        Assert.All(inputs.Problems, p => Assert.StartsWith("Pod x/bad: status.podIPs: ", p));
    }

    [Fact]
    public void NamedPortsDefaultToTcpAndUnnamedOrBrokenOnesAreLeftOut()
    {
        var pod = Pod("x", "p", NoLabels, "n1", ["10.0.0.1"], [Port(80, null!, "http"), Port(53, "UDP", "dns"), Port(9090, "TCP"), Port(1, "XTP", "odd")]);
        var inputs = PolicyInputs.Parse([], [], [pod]);
        var facts = Assert.Single(inputs.Pods);
        Assert.Equal([new NamedContainerPort("http", TransportProtocol.Tcp, 80), new NamedContainerPort("dns", TransportProtocol.Udp, 53)], facts.NamedPorts);
        Assert.Equal(80, facts.Resolve("http", TransportProtocol.Tcp));
        Assert.Null(facts.Resolve("http", TransportProtocol.Udp));
        Assert.Null(facts.Resolve("metrics", TransportProtocol.Tcp));
        Assert.Contains("port odd", Assert.Single(inputs.Problems));
    }

    [Fact]
    public void EveryNamespaceCarriesItsNameLabelEvenBeforeItIsSeen()
    {
        var inputs = PolicyInputs.Parse([], [Namespace("x", new Dictionary<string, string> { ["team"] = "a", [PolicyInputs.NamespaceNameLabel] = "forged" })], []);
        Assert.Equal("x", inputs.LabelsOf("x")[PolicyInputs.NamespaceNameLabel]);
        Assert.Equal("a", inputs.LabelsOf("x")["team"]);
        Assert.Equal("unseen", inputs.LabelsOf("unseen")[PolicyInputs.NamespaceNameLabel]);
    }

    [Fact]
    public void PoliciesBeingDeletedNoLongerCountAndTheRestAreOrdered()
    {
        var leaving = Policy("x", "leaving", Empty, ingress: []);
        leaving.Metadata.DeletionTimestamp = DateTime.UtcNow;
        var inputs = PolicyInputs.Parse([Policy("y", "b", Empty), leaving, Policy("x", "c", Empty), Policy("y", "a", Empty)], [], []);
        Assert.Equal(["x/c", "y/a", "y/b"], inputs.Policies.Select(p => p.Key));
    }
}
