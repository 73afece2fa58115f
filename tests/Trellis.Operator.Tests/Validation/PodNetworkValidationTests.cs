using Trellis.Addressing;
using k8s.Models;
using Trellis.Crds;
using Trellis.Operator.Facts;
using Trellis.Operator.Validation;
using Xunit;

namespace Trellis.Operator.Tests.Validation;

public sealed class PodNetworkValidationTests
{
    private static readonly PodNetworkValidation Validation = new();

    private static ValidationVerdict Alone(PodNetwork network) => Evaluate(network, [], []);

    private static ValidationVerdict Evaluate(PodNetwork network, PodNetwork[] others, Cidr[] inUse, params V1Node[] nodes) =>
        Validation.Evaluate(new PodNetworkInCluster(PodNetworkFacts.Parse(network), others.Select(PodNetworkFacts.Parse).ToList(), inUse,
            nodes.Select(NodeFacts.Parse).ToList()));

    private static PodNetwork Created(string name, int minute, params string[] cidrs)
    {
        var network = TestObjects.Network(name, cidrs);
        network.Metadata.CreationTimestamp = new DateTime(2026, 1, 1, 0, minute, 0, DateTimeKind.Utc);
        return network;
    }

    [Theory]
    [InlineData("10.244.0.0/16")]
    [InlineData("10.244.0.0/16", "fd00:10:244::/64")]
    [InlineData("10.244.0.0/16", "10.245.0.0/16")]
    public void Sound_specs_are_valid(params string[] cidrs)
    {
        var verdict = Alone(TestObjects.Network("ok", cidrs));
        Assert.True(verdict.Valid, verdict.Message);
        Assert.Equal(ValidationReasons.Valid, verdict.Reason);
    }

    [Theory]
    [InlineData("10.244.1.7/16", "host bits")]
    [InlineData("10.244.0.0", "not a CIDR")]
    [InlineData("10.244.0.0/33", "prefix")]
    public void Bad_cidrs_are_refused_with_the_network_and_the_text(string cidr, string expected)
    {
        var verdict = Alone(TestObjects.Network("bad", cidr));
        Assert.False(verdict.Valid);
        Assert.Equal(ValidationReasons.InvalidSpec, verdict.Reason);
        Assert.Contains("PodNetwork bad", verdict.Message);
        Assert.Contains(cidr, verdict.Message);
        Assert.Contains(expected, verdict.Message);
    }

    [Theory]
    [InlineData(0, 10, 4, 600, "spec.maxBlocksPerNode", "maxBlocksPerNode 0 is outside 1..64")]
    [InlineData(65, 10, 4, 600, "spec.maxBlocksPerNode", "maxBlocksPerNode 65 is outside 1..64")]
    [InlineData(4, 101, 4, 600, "spec.blockGrowth.minFreePercent", "blockGrowth.minFreePercent 101 is not a percentage within 0..100")]
    [InlineData(4, -1, 4, 600, "spec.blockGrowth.minFreePercent", "blockGrowth.minFreePercent -1 is not a percentage")]
    [InlineData(4, 10, -1, 600, "spec.blockGrowth.minFreeAddresses", "blockGrowth.minFreeAddresses -1 is outside 0..65536")]
    [InlineData(4, 10, 4, -1, "spec.blockGrowth.releaseEmptyAfterSeconds", "blockGrowth.releaseEmptyAfterSeconds -1 is outside 0..2592000")]
    public void Block_growth_out_of_range_is_refused_naming_the_field(int maxBlocks, int percent, int addresses, int seconds, string field, string expected)
    {
        var network = TestObjects.Network("grow", "10.244.0.0/16");
        network.Spec.MaxBlocksPerNode = maxBlocks;
        network.Spec.BlockGrowth = new BlockGrowth { MinFreePercent = percent, MinFreeAddresses = addresses, ReleaseEmptyAfterSeconds = seconds };
        var verdict = Alone(network);
        Assert.False(verdict.Valid);
        Assert.Contains("PodNetwork grow", verdict.Message);
        Assert.Contains(expected, verdict.Message);
        Assert.Contains(field.Split('.')[^1], expected);
    }

    [Fact]
    public void Block_growth_at_its_bounds_is_valid()
    {
        var network = TestObjects.Network("grow", "10.244.0.0/16");
        network.Spec.MaxBlocksPerNode = 1;
        network.Spec.BlockGrowth = new BlockGrowth { MinFreePercent = 100, MinFreeAddresses = 0, ReleaseEmptyAfterSeconds = 0 };
        Assert.True(Alone(network).Valid);
    }

    [Fact]
    public void No_cidrs_is_refused()
    {
        var verdict = Alone(TestObjects.Network("empty"));
        Assert.False(verdict.Valid);
        Assert.Contains("no cidrs", verdict.Message);
    }

    [Theory]
    [InlineData("10.244.0.0/24", 16, 80, "larger than its range 10.244.0.0/24")]
    [InlineData("10.244.0.0/16", 31, 80, "leaves no room")]
    [InlineData("fd00::/64", 24, 48, "larger than its range fd00::/64")]
    [InlineData("fd00::/64", 24, 127, "leaves no room")]
    public void Block_size_must_fit_the_range_and_hold_pods(string cidr, int v4, int v6, string expected)
    {
        var network = TestObjects.Network("sized", cidr);
        network.Spec.BlockSize = new BlockSize { IPv4 = v4, IPv6 = v6 };
        var verdict = Alone(network);
        Assert.False(verdict.Valid);
        Assert.Contains(expected, verdict.Message);
    }

    [Fact]
    public void Ranges_of_one_network_must_not_overlap()
    {
        var verdict = Alone(TestObjects.Network("self", "10.244.0.0/16", "10.244.1.0/24"));
        Assert.False(verdict.Valid);
        Assert.Contains("10.244.0.0/16 and 10.244.1.0/24 overlap", verdict.Message);
    }

    [Fact]
    public void Routing_mtu_and_selector_are_checked()
    {
        var network = TestObjects.Network("policy", "10.244.0.0/16");
        network.Spec.Routing = new RoutingSpec { Mode = "Carrier-Pigeon", Vxlan = new VxlanSpec { Vni = 0, Port = 70000 } };
        network.Spec.Mtu = 67;
        network.Spec.NodeSelector = new V1LabelSelector { MatchExpressions = [new V1LabelSelectorRequirement { Key = "pool", OperatorProperty = "In" }] };
        var verdict = Alone(network);
        Assert.False(verdict.Valid);
        foreach (var expected in new[] { "Carrier-Pigeon", "VNI 0", "port 70000", "MTU 67", "nodeSelector" })
            Assert.Contains(expected, verdict.Message);
    }

    [Theory]
    [InlineData(0, new[] { "10.244.0.0/16", "fd00:10:244::/48" }, null)]
    [InlineData(68, new[] { "10.244.0.0/16" }, null)]
    [InlineData(1279, new[] { "10.244.0.0/16" }, null)]
    [InlineData(1280, new[] { "10.244.0.0/16", "fd00:10:244::/48" }, null)]
    [InlineData(65_535, new[] { "fd00:10:244::/48" }, null)]
    [InlineData(67, new[] { "10.244.0.0/16" }, "MTU 67 is outside 68..65535")]
    [InlineData(65_536, new[] { "10.244.0.0/16" }, "MTU 65536 is outside 68..65535")]
    [InlineData(1279, new[] { "10.244.0.0/16", "fd00:10:244::/48" }, "MTU 1279 is below 1280")]
    [InlineData(576, new[] { "fd00:10:244::/48" }, "MTU 576 is below 1280")]
    public void The_mtu_is_0_or_within_the_bounds_of_the_ranges_families(int mtu, string[] cidrs, string? problem)
    {
        var network = TestObjects.Network("sized", cidrs);
        network.Spec.BlockSize.IPv6 = 64;
        network.Spec.Mtu = mtu;
        var verdict = Alone(network);
        if (problem is null)
            Assert.True(verdict.Valid, verdict.Message);
        else
        {
            Assert.False(verdict.Valid);
            Assert.Contains(problem, verdict.Message);
        }
    }

    [Fact]
    public void Of_two_overlapping_networks_the_newer_is_invalid_and_the_older_is_not()
    {
        var older = Created("older", 1, "10.244.0.0/16");
        var newer = Created("newer", 2, "10.244.128.0/17");
        var verdictNewer = Evaluate(newer, [older, newer], []);
        var verdictOlder = Evaluate(older, [older, newer], []);
        Assert.False(verdictNewer.Valid);
        Assert.Equal(ValidationReasons.Overlap, verdictNewer.Reason);
        Assert.Contains("10.244.128.0/17 overlaps range 10.244.0.0/16 of the older PodNetwork older", verdictNewer.Message);
        Assert.True(verdictOlder.Valid);
    }

    [Fact]
    public void Equal_timestamps_are_ordered_by_name()
    {
        var a = Created("alpha", 1, "10.0.0.0/16");
        var b = Created("beta", 1, "10.0.0.0/16");
        Assert.True(Evaluate(a, [a, b], []).Valid);
        Assert.False(Evaluate(b, [a, b], []).Valid);
    }

    [Fact]
    public void Disjoint_networks_are_both_valid()
    {
        var a = Created("a", 1, "10.0.0.0/16");
        var b = Created("b", 2, "10.1.0.0/16", "fd00::/64");
        Assert.True(Evaluate(b, [a, b], []).Valid);
    }

    [Fact]
    public void Removing_a_range_that_still_holds_blocks_is_refused()
    {
        var network = TestObjects.Network("shrunk", "10.244.0.0/16");
        var inUse = new[] { Cidr.Parse("10.244.3.0/24"), Cidr.Parse("10.245.0.0/24") };
        var verdict = Evaluate(network, [network], inUse);
        Assert.False(verdict.Valid);
        Assert.Equal(ValidationReasons.RangeInUse, verdict.Reason);
        Assert.Contains("10.245.0.0/24", verdict.Message);
        Assert.DoesNotContain("10.244.3.0/24", verdict.Message);
    }

    [Theory]
    [InlineData("a.b")]
    [InlineData("a-name-that-is-far-longer-than-a-dns-label-may-be-sixty-four-chars")]
    public void Names_that_cannot_form_unambiguous_NodeSubnet_names_are_refused(string name)
    {
        var verdict = Alone(TestObjects.Network(name, "10.244.0.0/16"));
        Assert.False(verdict.Valid);
        Assert.Equal(ValidationReasons.InvalidSpec, verdict.Reason);
        Assert.Contains("DNS label", verdict.Message);
    }

    [Fact]
    public void A_range_holding_any_nodes_address_is_refused_naming_address_and_node()
    {
        var network = TestObjects.Network("underlay", "192.168.0.0/16", "10.244.0.0/16");
        var ext = TestObjects.Node("ext");
        ext.Status.Addresses.Add(new V1NodeAddress { Address = "10.244.9.9", Type = "ExternalIP" });
        var verdict = Evaluate(network, [network], [], TestObjects.Node("n1", "192.168.1.11"), TestObjects.Node("n2", "172.16.0.2"), ext);
        Assert.False(verdict.Valid);
        Assert.Equal(ValidationReasons.OverlapsNodeAddresses, verdict.Reason);
        Assert.Contains("range 192.168.0.0/16 holds the address 192.168.1.11 of node n1", verdict.Message);
        Assert.Contains("range 10.244.0.0/16 holds the address 10.244.9.9 of node ext", verdict.Message);
        Assert.DoesNotContain("172.16.0.2", verdict.Message);
    }

    [Fact]
    public void Once_a_generation_is_accepted_a_node_address_inside_it_no_longer_invalidates_it()
    {
        var network = TestObjects.Network("pods", "10.244.0.0/16");
        network.Metadata.Generation = 4;
        var intruder = TestObjects.Node("late", "10.244.7.7");
        Assert.False(Evaluate(network, [network], [], intruder).Valid);

        network.Status = new PodNetworkStatus { Conditions = [new V1Condition { Type = Conditions.Valid, Status = "True", ObservedGeneration = 4 }] };
        Assert.True(Evaluate(network, [network], [], intruder).Valid);
        network.Metadata.Generation = 5;
        Assert.Equal(ValidationReasons.OverlapsNodeAddresses, Evaluate(network, [network], [], intruder).Reason);
    }
}
