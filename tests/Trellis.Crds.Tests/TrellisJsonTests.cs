using System.Text.Json;
using System.Text.Json.Serialization;
using k8s;
using k8s.Models;
using Trellis.ControllerRuntime.Clients;
using Trellis.Crds;
using Xunit;

namespace Trellis.Crds.Tests;

/// <summary>
/// The published operator and agent (Native AOT) read and write Trellis' objects through the generated serializers
/// only: they must agree, byte for byte and both ways, with what KubernetesClient's reflection writes in these tests.
/// </summary>
public sealed class TrellisJsonTests
{
    /// <summary>KubernetesJson's options, with only the generated metadata the programs have (Trellis' and ApiJson's) to resolve types from.</summary>
    private static readonly JsonSerializerOptions Generated = new()
    {
        TypeInfoResolver = System.Text.Json.Serialization.Metadata.JsonTypeInfoResolver.Combine(TrellisJson.Resolver, ApiJson.KubernetesModels),
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters =
        {
            new KubernetesJson.Iso8601TimeSpanConverter(),
            new KubernetesJson.KubernetesDateTimeConverter(),
            new KubernetesJson.KubernetesDateTimeOffsetConverter(),
        },
    };

    private static readonly DateTime At = new(2026, 12, 2, 3, 4, 5, DateTimeKind.Utc);

    public static NodeSubnet FullNodeSubnet() => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = "pods.node-a", ResourceVersion = "42", Generation = 3, CreationTimestamp = At,
            Labels = new Dictionary<string, string> { ["trellis.dev/node"] = "node-a" },
            OwnerReferences = [new V1OwnerReference { ApiVersion = "trellis.dev/v1", Kind = "PodNetwork", Name = "pods", Uid = "uid-1", BlockOwnerDeletion = true, Controller = true }],
        },
        Spec = new NodeSubnetSpec
        {
            NodeName = "node-a", PodNetwork = "pods", Cidrs = ["10.244.1.0/24", "fd00:10:244:1::/64"], Draining = ["10.244.9.0/24"],
            Gateways = ["10.244.1.1"], NodeAddresses = ["192.168.0.2"], NetworkCidrs = ["10.244.0.0/16"], Mtu = 1450, NatOutgoing = false,
            Routing = new RoutingSpec
            {
                Mode = RoutingModes.Bgp, Vxlan = new VxlanSpec { Vni = 7, Port = 4790 },
                Bgp = new BgpSpec
                {
                    Peers = [new BgpPeerSpec
                    {
                        Address = "192.168.0.1", Asn = 4_200_000_001, Password = "s3cret",
                        NodeSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["rack"] = "r1" } },
                    }],
                },
            },
        },
        Status = new NodeSubnetStatus
        {
            ObservedGeneration = 3, PeersRouted = 4, AddressesInUse = 5, AddressCapacity = 508, AddressesReclaimed = 2, BgpSessions = "1/1",
            Conditions = [new V1Condition { LastTransitionTime = At, Message = "all routes programmed", Reason = "Programmed", Status = "True", Type = "Programmed", ObservedGeneration = 3 }],
            Blocks = [new BlockUsageStatus { Cidr = "10.244.9.0/24", AddressesInUse = 0, AddressCapacity = 254, EmptySince = At, Drained = true }],
            Families = [new FamilyUsageStatus { Family = "IPv4", Blocks = 2, AddressesInUse = 5, AddressCapacity = 508 }],
            BgpPeers = [new BgpPeerStatus { Address = "192.168.0.1", Asn = 64512, State = "Established", EstablishedSince = At, PrefixesSent = 2, LastError = "none" }],
        },
    };

    public static PodNetwork FullPodNetwork() => new()
    {
        Metadata = new V1ObjectMeta { Name = "pods", Generation = 2, Annotations = new Dictionary<string, string> { ["a"] = "b" } },
        Spec = new PodNetworkSpec
        {
            Cidrs = ["10.244.0.0/16"], BlockSize = new BlockSize { IPv4 = 26, IPv6 = 120 }, Mtu = 1400, MaxBlocksPerNode = 3,
            NodeSelector = new V1LabelSelector
            {
                MatchExpressions = [new V1LabelSelectorRequirement { Key = "zone", OperatorProperty = "In", Values = ["east", "west"] }],
            },
            BlockGrowth = new BlockGrowth { MinFreeAddresses = 8, MinFreePercent = 10, ReleaseEmptyAfterSeconds = 60 },
        },
        Status = new PodNetworkStatus { ObservedGeneration = 2, BlocksAllocated = 3, BlocksTotal = 1024, Conditions = [new V1Condition { LastTransitionTime = At, Message = "ok", Reason = "Ready", Status = "True", Type = "Ready" }] },
    };

    [Fact]
    public void ANodeSubnetIsWrittenAsReflectionWritesItAndReadBackWhole()
    {
        var subnet = FullNodeSubnet();
        var generated = JsonSerializer.Serialize(subnet, Generated);
        Assert.Equal(KubernetesJson.Serialize(subnet), generated);
        Assert.Equal(generated, JsonSerializer.Serialize(JsonSerializer.Deserialize<NodeSubnet>(generated, Generated), Generated));
    }

    [Fact]
    public void APodNetworkIsWrittenAsReflectionWritesItAndReadBackWhole()
    {
        var network = FullPodNetwork();
        var generated = JsonSerializer.Serialize(network, Generated);
        Assert.Equal(KubernetesJson.Serialize(network), generated);
        Assert.Equal(generated, JsonSerializer.Serialize(JsonSerializer.Deserialize<PodNetwork>(generated, Generated), Generated));
    }

    [Fact]
    public void ListsAndMergePatchesAsTheOperatorAndAgentBuildThem()
    {
        var list = new KubernetesList<NodeSubnet>([FullNodeSubnet()], "trellis.dev/v1", "NodeSubnetList", new V1ListMeta { ResourceVersion = "9", ContinueProperty = "x" });
        Assert.Equal(KubernetesJson.Serialize(list), JsonSerializer.Serialize(list, Generated));
        object[] patches =
        [
            new Dictionary<string, object> { ["status"] = FullNodeSubnet().Status! },
            new Dictionary<string, object> { ["count"] = 3, ["lastTimestamp"] = At },
            new Dictionary<string, object> { ["spec"] = new Dictionary<string, object> { ["podCIDR"] = "10.244.1.0/24", ["podCIDRs"] = new List<string> { "10.244.1.0/24" } } },
            new Dictionary<string, object> { ["spec"] = new Dictionary<string, object> { ["podCIDRs"] = new[] { "10.244.1.0/24" } } },
        ];
        foreach (var patch in patches)
            Assert.Equal(KubernetesJson.Serialize(patch), JsonSerializer.Serialize(patch, Generated));
    }

    /// <summary>The Kubernetes objects the operator and the agent write (leases, events) and read (pods, policies, nodes).</summary>
    [Fact]
    public void KubernetesObjectsAreWrittenAsReflectionWritesThemAndReadBackWhole()
    {
        object[] objects =
        [
            new V1Lease
            {
                ApiVersion = "coordination.k8s.io/v1", Kind = "Lease", Metadata = new V1ObjectMeta { Name = "trellis-operator", NamespaceProperty = "kube-system", ResourceVersion = "7" },
                Spec = new V1LeaseSpec { HolderIdentity = "a", AcquireTime = At, RenewTime = At.AddTicks(1234560), LeaseDurationSeconds = 15, LeaseTransitions = 2 },
            },
            new Corev1Event
            {
                ApiVersion = "v1", Kind = "Event", Metadata = new V1ObjectMeta { Name = "e.1", NamespaceProperty = "default" }, Count = 2, Type = "Warning",
                Reason = "Exhausted", Message = "no block", FirstTimestamp = At, LastTimestamp = At, EventTime = At, ReportingComponent = "trellis-operator",
                InvolvedObject = new V1ObjectReference { ApiVersion = "trellis.dev/v1", Kind = "PodNetwork", Name = "pods", Uid = "u" },
                Source = new V1EventSource { Component = "trellis-operator", Host = "n1" },
            },
            new V1NetworkPolicy
            {
                ApiVersion = "networking.k8s.io/v1", Kind = "NetworkPolicy", Metadata = new V1ObjectMeta { Name = "p", NamespaceProperty = "default" },
                Spec = new V1NetworkPolicySpec
                {
                    PodSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "db" } },
                    PolicyTypes = ["Ingress"],
                    Ingress = [new V1NetworkPolicyIngressRule
                    {
                        Ports = [new V1NetworkPolicyPort { Port = 5432, Protocol = "TCP" }, new V1NetworkPolicyPort { Port = "http", EndPort = null }],
                        FromProperty = [new V1NetworkPolicyPeer { IpBlock = new V1IPBlock { Cidr = "10.0.0.0/8", Except = ["10.1.0.0/16"] } }],
                    }],
                },
            },
            new V1Pod
            {
                ApiVersion = "v1", Kind = "Pod", Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "default", Labels = new Dictionary<string, string> { ["app"] = "web" } },
                Spec = new V1PodSpec
                {
                    NodeName = "n1", HostNetwork = false,
                    Containers = [new V1Container { Name = "c", Image = "i", Resources = new V1ResourceRequirements { Limits = new Dictionary<string, ResourceQuantity> { ["memory"] = new("64Mi") } } }],
                },
                Status = new V1PodStatus { Phase = "Running", PodIP = "10.244.1.5", PodIPs = [new V1PodIP { Ip = "10.244.1.5" }], StartTime = At },
            },
            new V1Node { ApiVersion = "v1", Kind = "Node", Metadata = new V1ObjectMeta { Name = "n1" }, Spec = new V1NodeSpec { PodCIDRs = ["10.244.1.0/24"] },
                Status = new V1NodeStatus { Addresses = [new V1NodeAddress { Type = "InternalIP", Address = "192.168.0.2" }] } },
            new V1Namespace { ApiVersion = "v1", Kind = "Namespace", Metadata = new V1ObjectMeta { Name = "default", Labels = new Dictionary<string, string> { ["kubernetes.io/metadata.name"] = "default" } } },
            new V1DeleteOptions { Preconditions = new V1Preconditions { Uid = "u", ResourceVersion = "3" }, PropagationPolicy = "Background" },
        ];
        foreach (var obj in objects)
        {
            var generated = JsonSerializer.Serialize(obj, obj.GetType(), Generated);
            Assert.Equal(KubernetesJson.Serialize(obj), generated);
            Assert.Equal(generated, JsonSerializer.Serialize(JsonSerializer.Deserialize(generated, obj.GetType(), Generated), obj.GetType(), Generated));
        }
    }

    [Fact]
    public void AnUnlistedTypeIsRefusedRatherThanGuessed()
    {
        Assert.Throws<NotSupportedException>(() => JsonSerializer.Serialize(new Uri("http://example.com"), Generated));
    }
}
