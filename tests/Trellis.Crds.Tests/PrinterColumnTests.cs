using System.Reflection;
using System.Text.Json.Nodes;
using Xunit;

namespace Trellis.Crds.Tests;

public sealed class PrinterColumnTests
{
    private static readonly IReadOnlySet<string> ConditionTypes = typeof(Conditions)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(field => field.IsLiteral && !field.Name.StartsWith("Reason", StringComparison.Ordinal))
        .Select(field => (string)field.GetRawConstantValue()!)
        .ToHashSet();

    [Theory]
    [MemberData(nameof(ConfigFiles.CrdNames), MemberType = typeof(ConfigFiles))]
    public void Every_column_points_at_a_field_of_a_matching_type(string plural)
    {
        var crd = CrdUnderTest.Named(plural);
        var columns = Assert.Single(crd.Crd.Spec.Versions).AdditionalPrinterColumns;
        Assert.NotEmpty(columns);

        foreach (var column in columns)
        {
            var resolved = PrinterColumnPath.Resolve(crd.RootSchema, column.JsonPath);
            Assert.True(resolved.Problems.Count == 0, $"{crd.Path} column {column.Name}: " + string.Join("; ", resolved.Problems));
            var target = resolved.Schema!;
            var compatible = column.Type switch
            {
                "integer" => (string?)target["type"] == "integer",
                "number" => (string?)target["type"] is "integer" or "number",
                "boolean" => (string?)target["type"] == "boolean",
                "date" => (string?)target["type"] == "string" && (string?)target["format"] == "date-time",
                "string" => true,
                _ => false,
            };
            Assert.True(compatible, $"{crd.Path} column {column.Name}: type {column.Type} cannot show {target.ToJsonString()}");
            foreach (var value in resolved.FilterValues)
                Assert.Contains(value, ConditionTypes);
        }
    }

    [Fact]
    public void Kubectl_get_podnetworks_shows_ranges_block_sizes_mode_nodes_blocks_ready_and_age()
    {
        var paths = Columns(ConfigFiles.PodNetworkCrdPath);

        Assert.Equal(".spec.cidrs", paths["CIDRs"]);
        Assert.Equal(".spec.blockSize.ipv4", paths["Block-v4"]);
        Assert.Equal(".spec.blockSize.ipv6", paths["Block-v6"]);
        Assert.Equal(".spec.routing.mode", paths["Mode"]);
        Assert.Equal(".status.nodes", paths["Nodes"]);
        Assert.Equal(".status.blocksAllocated", paths["Blocks"]);
        Assert.Equal(".status.blocksTotal", paths["Total"]);
        Assert.Equal($".status.conditions[?(@.type==\"{Conditions.Ready}\")].status", paths["Ready"]);
        Assert.Equal(".metadata.creationTimestamp", paths["Age"]);
    }

    [Fact]
    public void Kubectl_get_nodesubnets_shows_node_network_blocks_address_usage_programmed_and_age()
    {
        var paths = Columns(ConfigFiles.NodeSubnetCrdPath);

        Assert.Equal(".spec.nodeName", paths["Node"]);
        Assert.Equal(".spec.podNetwork", paths["Network"]);
        Assert.Equal(".spec.cidrs", paths["CIDRs"]);
        Assert.Equal(".spec.nodeAddresses", paths["Node-Address"]);
        Assert.Equal(".status.addressesInUse", paths["In-Use"]);
        Assert.Equal(".status.addressCapacity", paths["Capacity"]);
        Assert.Equal($".status.conditions[?(@.type==\"{Conditions.Programmed}\")].status", paths["Programmed"]);
        Assert.Equal(".metadata.creationTimestamp", paths["Age"]);
    }

    [Theory]
    [InlineData(".spec.blocksize.ipv4")]
    [InlineData(".status.conditions[?(@.kind==\"Ready\")].status")]
    [InlineData(".spec.mtu[0]")]
    [InlineData(".metadata.creationTime")]
    [InlineData("{.spec.cidrs}")]
    public void A_path_to_nothing_is_reported(string jsonPath)
    {
        var resolved = PrinterColumnPath.Resolve(ConfigFiles.RootSchema(ConfigFiles.PodNetworkCrdPath), jsonPath);
        Assert.NotEmpty(resolved.Problems);
    }

    private static Dictionary<string, string> Columns(string crdPath) =>
        Assert.Single(ConfigFiles.Crd(crdPath).Spec.Versions).AdditionalPrinterColumns
            .ToDictionary(column => column.Name, column => column.JsonPath);
}
