using Trellis.Addressing;
using System.Text.Json.Nodes;
using k8s;
using Xunit;

namespace Trellis.Crds.Tests;

public sealed class SampleTests
{
    public static IEnumerable<object[]> Samples() =>
        Directory.EnumerateFiles(Path.Combine(ConfigFiles.ConfigDirectory, "samples"), "*.yaml")
            .Order(StringComparer.Ordinal)
            .Select(path => new object[] { Path.GetFileName(path) });

    [Theory]
    [MemberData(nameof(Samples))]
    public void A_sample_passes_the_podnetwork_schema(string file)
    {
        var sample = Load(file);

        Assert.Equal(TrellisApi.ApiVersion, (string?)sample["apiVersion"]);
        Assert.Equal(PodNetwork.KindName, (string?)sample["kind"]);
        var errors = SchemaValidation.Errors(PodNetworkSchema(), sample);
        Assert.True(errors.Count == 0, $"{file}:\n" + string.Join("\n", errors));
    }

    /// <summary>The checks the CRD's CEL rules make, made again with Trellis.Addressing, since CEL cannot run here.</summary>
    [Theory]
    [MemberData(nameof(Samples))]
    public void A_sample_has_canonical_disjoint_ranges_and_blocks_that_fit_them(string file)
    {
        var network = Deserialize(file);
        var ranges = network.Spec.Cidrs.Select(text =>
        {
            Assert.True(Cidr.TryParse(text, out var range, out var error), $"{file}: {text}: {error}");
            Assert.Equal(text, range.ToString());
            return range;
        }).ToList();

        foreach (var range in ranges)
        {
            Assert.DoesNotContain(ranges, other => other != range && other.Overlaps(range));
            var block = range.IsIPv4 ? network.Spec.BlockSize.IPv4 : network.Spec.BlockSize.IPv6;
            Assert.InRange(block, range.PrefixLength, range.AddressBits);
        }
        Assert.Matches("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", network.Metadata.Name);
    }

    [Fact]
    public void The_default_sample_is_10_244_0_0_16_in_24_blocks_routed_automatically()
    {
        var network = Deserialize("podnetwork.yaml");

        Assert.Equal("default", network.Metadata.Name);
        Assert.Equal(["10.244.0.0/16"], network.Spec.Cidrs);
        Assert.Equal(24, network.Spec.BlockSize.IPv4);
        Assert.Equal(BlockSize.DefaultIPv6, network.Spec.BlockSize.IPv6);
        Assert.Equal(RoutingModes.Auto, network.Spec.Routing.Mode);
        Assert.Equal(VxlanSpec.DefaultVni, network.Spec.Routing.Vxlan.Vni);
        Assert.Equal(VxlanSpec.DefaultPort, network.Spec.Routing.Vxlan.Port);
        Assert.Equal(0, network.Spec.Mtu);
        Assert.True(network.Spec.NatOutgoing);
        Assert.Null(network.Spec.NodeSelector);
    }

    [Fact]
    public void The_dual_stack_sample_has_one_range_per_family()
    {
        var network = Deserialize("podnetwork-dualstack.yaml");
        var ranges = network.Spec.Cidrs.Select(Cidr.Parse).ToList();

        Assert.Single(ranges, range => range.IsIPv4);
        Assert.Single(ranges, range => range.IsIPv6);
        Assert.Equal(RoutingModes.Vxlan, network.Spec.Routing.Mode);
    }

    [Fact]
    public void The_selector_sample_selects_labelled_nodes_and_can_sit_beside_the_default_network()
    {
        var network = Deserialize("podnetwork-selector.yaml");
        var defaultNetwork = Deserialize("podnetwork.yaml");

        Assert.Equal("gpu", network.Spec.NodeSelector!.MatchLabels["trellis.io/pool"]);
        Assert.Equal("DoesNotExist", Assert.Single(network.Spec.NodeSelector.MatchExpressions).OperatorProperty);
        Assert.False(network.Spec.NatOutgoing);
        Assert.DoesNotContain(network.Spec.Cidrs.Select(Cidr.Parse),
            range => defaultNetwork.Spec.Cidrs.Select(Cidr.Parse).Any(range.Overlaps));
    }

    [Fact]
    public void The_schema_check_refuses_a_wrong_mode_an_out_of_range_vni_and_an_unknown_field()
    {
        var sample = Load("podnetwork.yaml");
        sample["spec"]!["routing"]!["mode"] = "Fast";
        sample["spec"]!["routing"]!["vxlan"] = new JsonObject { ["vni"] = 0 };
        sample["spec"]!["blocksize"] = new JsonObject { ["ipv4"] = 24 };

        var errors = SchemaValidation.Errors(PodNetworkSchema(), sample);

        Assert.Equal(3, errors.Count);
    }

    private static JsonObject PodNetworkSchema() => ConfigFiles.RootSchema(ConfigFiles.PodNetworkCrdPath);

    private static JsonObject Load(string file) =>
        ConfigFiles.Json(Path.Combine(ConfigFiles.ConfigDirectory, "samples", file));

    /// <summary>The sample as the operator reads it: defaulted by the API server, then deserialized.</summary>
    private static PodNetwork Deserialize(string file)
    {
        var defaulted = SchemaDefaulting.Apply(PodNetworkSchema(), Load(file))!;
        return KubernetesJson.Deserialize<PodNetwork>(defaulted.ToJsonString());
    }
}
