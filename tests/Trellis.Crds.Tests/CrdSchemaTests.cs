using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using k8s;
using k8s.Models;
using Trellis.Addressing;
using Xunit;

namespace Trellis.Crds.Tests;

public sealed class CrdSchemaTests
{
    [Theory]
    [MemberData(nameof(ConfigFiles.CrdNames), MemberType = typeof(ConfigFiles))]
    public void Schema_and_CSharp_type_have_the_same_fields_and_compatible_types(string plural)
    {
        var crd = CrdUnderTest.Named(plural);
        var comparison = TypeSchemaComparison.Compare(crd.Type, crd.RootSchema);
        Assert.True(comparison.Differences.Count == 0,
            $"{crd.Path} and {crd.Type.Name} disagree:\n" + string.Join("\n", comparison.Differences));
    }

    [Theory]
    [MemberData(nameof(ConfigFiles.CrdNames), MemberType = typeof(ConfigFiles))]
    public void Every_schema_default_equals_the_CSharp_default(string plural)
    {
        var crd = CrdUnderTest.Named(plural);
        var defaulted = TypeSchemaComparison.Compare(crd.Type, crd.RootSchema).Properties
            .Where(match => match.Schema["default"] is not null)
            .ToList();
        Assert.NotEmpty(defaulted);

        foreach (var match in defaulted)
        {
            var owner = Activator.CreateInstance(match.Property.DeclaringType!)!;
            var expected = ToJson(match.Property.GetValue(owner));
            var actual = SchemaDefaulting.Apply(match.Schema, match.Schema["default"]);
            Assert.True(JsonNode.DeepEquals(expected, actual),
                $"{crd.Path} {match.Path}: schema default {actual?.ToJsonString()} but new {match.Property.DeclaringType!.Name}().{match.Property.Name} is {expected?.ToJsonString()}");
        }
    }

    [Theory]
    [MemberData(nameof(ConfigFiles.CrdNames), MemberType = typeof(ConfigFiles))]
    public void A_spec_of_only_its_required_fields_defaults_to_a_new_CSharp_spec(string plural)
    {
        var crd = CrdUnderTest.Named(plural);
        var specSchema = crd.RootSchema["properties"]!["spec"]!.AsObject();
        var newSpec = ToJson(Activator.CreateInstance(crd.SpecType))!.AsObject();
        var required = specSchema["required"]!.AsArray().Select(name => (string)name!).ToHashSet();
        var onlyRequired = new JsonObject(newSpec.Where(field => required.Contains(field.Key))
            .Select(field => KeyValuePair.Create(field.Key, field.Value?.DeepClone())));

        var defaulted = SchemaDefaulting.Apply(specSchema, onlyRequired);

        Assert.True(JsonNode.DeepEquals(newSpec, defaulted),
            $"{crd.Path}: defaulting {onlyRequired.ToJsonString()} gives {defaulted?.ToJsonString()}, new {crd.SpecType.Name}() is {newSpec.ToJsonString()}");
    }

    [Theory]
    [MemberData(nameof(ConfigFiles.CrdNames), MemberType = typeof(ConfigFiles))]
    public void The_status_has_no_defaults_because_only_its_writer_knows_its_values(string plural)
    {
        var crd = CrdUnderTest.Named(plural);
        var status = crd.RootSchema["properties"]!["status"]!;
        Assert.DoesNotContain("\"default\"", status.ToJsonString());
    }

    [Theory]
    [MemberData(nameof(ConfigFiles.CrdNames), MemberType = typeof(ConfigFiles))]
    public void Every_enum_is_the_one_the_CSharp_API_defines(string plural)
    {
        var crd = CrdUnderTest.Named(plural);
        var known = new Dictionary<(Type, string), IReadOnlyList<string>>
        {
            [(typeof(RoutingSpec), nameof(RoutingSpec.Mode))] = RoutingModes.All,
            [(typeof(BgpPeerStatus), nameof(BgpPeerStatus.State))] = BgpSessionStates.All,
            [(typeof(FamilyUsageStatus), nameof(FamilyUsageStatus.Family))] = FamilyUsageStatus.All,
            [(typeof(V1Condition), nameof(V1Condition.Status))] = ["True", "False", "Unknown"],
            [(typeof(V1LabelSelectorRequirement), nameof(V1LabelSelectorRequirement.OperatorProperty))] = ["In", "NotIn", "Exists", "DoesNotExist"],
        };

        var enums = TypeSchemaComparison.Compare(crd.Type, crd.RootSchema).Properties
            .Where(match => match.Schema["enum"] is not null)
            .ToList();
        Assert.Contains(enums, match => match.Property.DeclaringType == typeof(RoutingSpec));

        foreach (var match in enums)
        {
            Assert.True(known.TryGetValue((match.Property.DeclaringType!, match.Property.Name), out var expected),
                $"{crd.Path} {match.Path}: an enum the C# API does not define");
            Assert.Equal(expected, match.Schema["enum"]!.AsArray().Select(value => (string)value!));
        }
    }

    [Theory]
    [MemberData(nameof(ConfigFiles.CrdNames), MemberType = typeof(ConfigFiles))]
    public void Vxlan_vni_and_port_are_bounded_to_their_wire_ranges(string plural)
    {
        var crd = CrdUnderTest.Named(plural);
        var properties = TypeSchemaComparison.Compare(crd.Type, crd.RootSchema).Properties;
        var vni = properties.Single(match => match.Property.DeclaringType == typeof(VxlanSpec) && match.Property.Name == nameof(VxlanSpec.Vni)).Schema;
        var port = properties.Single(match => match.Property.DeclaringType == typeof(VxlanSpec) && match.Property.Name == nameof(VxlanSpec.Port)).Schema;

        Assert.Equal(((double)VxlanVni.Minimum, (double)VxlanVni.Maximum), (SchemaValidation.Number(vni["minimum"]!), SchemaValidation.Number(vni["maximum"]!)));
        Assert.Equal((1d, 65_535d), (SchemaValidation.Number(port["minimum"]!), SchemaValidation.Number(port["maximum"]!)));
    }

    [Theory]
    [MemberData(nameof(ConfigFiles.CrdNames), MemberType = typeof(ConfigFiles))]
    public void Mtu_bounds_are_the_ones_MtuBounds_defines(string plural)
    {
        var crd = CrdUnderTest.Named(plural);
        var spec = crd.RootSchema["properties"]!["spec"]!.AsObject();
        var mtu = spec["properties"]!["mtu"]!.AsObject();
        var fieldRules = mtu["x-kubernetes-validations"]!.AsArray().Select(rule => (string)rule!["rule"]!).ToList();
        var specRules = spec["x-kubernetes-validations"]!.AsArray().Select(rule => (string)rule!["rule"]!).ToList();

        Assert.Equal((0d, (double)MtuBounds.Maximum), (SchemaValidation.Number(mtu["minimum"]!), SchemaValidation.Number(mtu["maximum"]!)));
        Assert.Equal($"self == 0 || self >= {MtuBounds.Minimum}", Assert.Single(fieldRules));
        Assert.Single(specRules, rule => rule.Contains($"self.mtu >= {MtuBounds.MinimumWithIPv6} ||") && rule.Contains("family() == 4"));
    }

    [Theory]
    [MemberData(nameof(ConfigFiles.CrdNames), MemberType = typeof(ConfigFiles))]
    public void Every_integer_bound_fits_the_CSharp_type(string plural)
    {
        var crd = CrdUnderTest.Named(plural);
        foreach (var match in TypeSchemaComparison.Compare(crd.Type, crd.RootSchema).Properties)
        {
            var type = Nullable.GetUnderlyingType(match.Property.PropertyType) ?? match.Property.PropertyType;
            if (type != typeof(int)) continue;
            foreach (var bound in new[] { "minimum", "maximum" })
                if (match.Schema[bound] is { } value)
                    Assert.InRange(SchemaValidation.Number(value), int.MinValue, int.MaxValue);
        }
    }

    [Theory]
    [MemberData(nameof(ConfigFiles.CrdNames), MemberType = typeof(ConfigFiles))]
    public void A_new_CSharp_spec_passes_the_schema_once_its_required_fields_are_filled(string plural)
    {
        var crd = CrdUnderTest.Named(plural);
        var spec = ToJson(Activator.CreateInstance(crd.SpecType))!.AsObject();
        // The smallest values a real object carries in the fields a new C# spec leaves empty.
        var filled = new Dictionary<string, JsonNode>
        {
            ["cidrs"] = new JsonArray("10.244.1.0/24"),
            ["networkCIDRs"] = new JsonArray("10.244.0.0/16"),
            ["gateways"] = new JsonArray("10.244.1.1"),
            ["nodeAddresses"] = new JsonArray("192.168.1.11"),
            ["nodeName"] = "node-1",
            ["podNetwork"] = "default",
        };
        foreach (var name in crd.RootSchema["properties"]!["spec"]!["required"]!.AsArray().Select(n => (string)n!))
            spec[name] = filled[name].DeepClone();

        var errors = SchemaValidation.Errors(crd.RootSchema["properties"]!["spec"]!.AsObject(), spec);
        Assert.True(errors.Count == 0, string.Join("\n", errors));
    }

    [Theory]
    [MemberData(nameof(ConfigFiles.CrdNames), MemberType = typeof(ConfigFiles))]
    public void Every_list_declares_its_merge_semantics_and_conditions_are_a_map_keyed_by_type(string plural)
    {
        var crd = CrdUnderTest.Named(plural);
        var matches = TypeSchemaComparison.Compare(crd.Type, crd.RootSchema).Properties;
        foreach (var match in matches.Where(m => (string?)m.Schema["type"] == "array"))
            Assert.True(match.Schema["x-kubernetes-list-type"] is not null, $"{crd.Path} {match.Path}: no x-kubernetes-list-type");

        var conditions = crd.RootSchema["properties"]!["status"]!["properties"]!["conditions"]!;
        Assert.Equal("map", (string?)conditions["x-kubernetes-list-type"]);
        Assert.Equal(["type"], conditions["x-kubernetes-list-map-keys"]!.AsArray().Select(key => (string)key!));
        Assert.Contains("type", conditions["items"]!["required"]!.AsArray().Select(key => (string)key!));
    }

    // Proofs that the comparison above can fail: one field added on either side is reported.

    private sealed class RoutingSpecWithExtraField
    {
        [JsonPropertyName("mode")] public string Mode { get; set; } = RoutingModes.Auto;
        [JsonPropertyName("vxlan")] public VxlanSpec Vxlan { get; set; } = new();
        [JsonPropertyName("bgp")] public BgpSpec? Bgp { get; set; }
        [JsonPropertyName("wireguard")] public bool WireGuard { get; set; }
    }

    [Fact]
    public void A_field_only_in_CSharp_is_reported()
    {
        var routing = ConfigFiles.RootSchema(ConfigFiles.PodNetworkCrdPath)["properties"]!["spec"]!["properties"]!["routing"]!.AsObject();

        var differences = TypeSchemaComparison.Compare(typeof(RoutingSpecWithExtraField), routing).Differences;

        Assert.Contains(".wireguard", Assert.Single(differences));
    }

    [Fact]
    public void A_field_only_in_the_schema_is_reported()
    {
        var schema = ConfigFiles.RootSchema(ConfigFiles.PodNetworkCrdPath);
        schema["properties"]!["spec"]!["properties"]!.AsObject()["wireguard"] = new JsonObject { ["type"] = "boolean" };

        var differences = TypeSchemaComparison.Compare(typeof(PodNetwork), schema).Differences;

        Assert.Contains(".spec.wireguard", Assert.Single(differences));
    }

    [Fact]
    public void An_incompatible_type_is_reported()
    {
        var schema = ConfigFiles.RootSchema(ConfigFiles.NodeSubnetCrdPath);
        schema["properties"]!["status"]!["properties"]!["peersRouted"]!["format"] = "int64";

        var differences = TypeSchemaComparison.Compare(typeof(NodeSubnet), schema).Differences;

        Assert.Contains(".status.peersRouted", Assert.Single(differences));
    }

    [Fact]
    public void A_default_that_differs_from_CSharp_is_visible_to_the_default_check()
    {
        var schema = ConfigFiles.RootSchema(ConfigFiles.PodNetworkCrdPath);
        var blockSize = schema["properties"]!["spec"]!["properties"]!["blockSize"]!.AsObject();
        blockSize["properties"]!["ipv4"]!["default"] = 26;

        var defaulted = SchemaDefaulting.Apply(blockSize, blockSize["default"]);

        Assert.False(JsonNode.DeepEquals(ToJson(new BlockSize()), defaulted));
    }

    internal static JsonNode? ToJson(object? value) =>
        value is null ? null : JsonNode.Parse(KubernetesJson.Serialize(value));
}
