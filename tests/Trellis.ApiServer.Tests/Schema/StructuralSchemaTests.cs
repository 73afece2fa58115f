using System.Text.Json.Nodes;
using Trellis.ApiServer.Schema;

namespace Trellis.ApiServer.Tests.Schema;

public sealed class StructuralSchemaTests
{
    private static readonly StructuralSchema PodNetworkLike = StructuralSchema.Parse(JsonNode.Parse("""
        {
          "type": "object",
          "properties": {
            "spec": {
              "type": "object",
              "required": ["cidrs"],
              "properties": {
                "cidrs": { "type": "array", "minItems": 1, "maxItems": 2, "items": { "type": "string", "minLength": 3, "maxLength": 43 } },
                "blockSize": { "type": "integer", "minimum": 8, "maximum": 128, "default": 24 },
                "ratio": { "type": "number", "minimum": 0, "maximum": 1, "exclusiveMaximum": true },
                "mode": { "type": "string", "enum": ["Direct", "VXLAN", "Auto"], "default": "Auto" },
                "name": { "type": "string", "pattern": "^[a-z]+$" },
                "natOutgoing": { "type": "boolean" },
                "port": { "x-kubernetes-int-or-string": true },
                "labels": { "type": "object", "additionalProperties": { "type": "string" }, "maxProperties": 2 },
                "routing": {
                  "type": "object",
                  "default": {},
                  "properties": { "vxlan": { "type": "object", "default": {}, "properties": { "vni": { "type": "integer", "default": 4096 } } } }
                },
                "free": { "type": "object", "x-kubernetes-preserve-unknown-fields": true },
                "maybe": { "type": "string", "nullable": true }
              },
              "x-kubernetes-validations": [{ "rule": "self.cidrs.size() > 0" }]
            },
            "status": { "type": "object", "properties": { "ready": { "type": "boolean" } } }
          }
        }
        """)!.AsObject());

    private static (JsonObject Object, IReadOnlyList<StatusCause> Causes) Admit(string spec)
    {
        var obj = JsonNode.Parse($$"""{"apiVersion":"trellis.io/v1alpha1","kind":"PodNetwork","metadata":{"name":"n","anything":1},"spec":{{spec}}}""")!.AsObject();
        return (obj, PodNetworkLike.Admit(obj));
    }

    [Fact]
    public void ValidObjectGetsDefaultsAndIsPruned()
    {
        var (obj, causes) = Admit("""{"cidrs":["10.0.0.0/16"],"unknown":1,"free":{"x":{"y":1}},"routing":{"vxlan":{"extra":true}}}""");
        Assert.Empty(causes);
        var spec = obj["spec"]!;
        Assert.Equal(24, spec["blockSize"]!.GetValue<int>());
        Assert.Equal("Auto", spec["mode"]!.GetValue<string>());
        Assert.Null(spec["unknown"]);
        Assert.Equal(1, spec["free"]!["x"]!["y"]!.GetValue<int>());
        Assert.Equal(4096, spec["routing"]!["vxlan"]!["vni"]!.GetValue<int>());
        Assert.Null(spec["routing"]!["vxlan"]!["extra"]);
        Assert.Equal(1, obj["metadata"]!["anything"]!.GetValue<int>());
    }

    [Fact]
    public void DefaultsNestIntoDefaultedObjects()
    {
        var (obj, causes) = Admit("""{"cidrs":["10.0.0.0/16"]}""");
        Assert.Empty(causes);
        Assert.Equal(4096, obj["spec"]!["routing"]!["vxlan"]!["vni"]!.GetValue<int>());
    }

    [Fact]
    public void UnknownTopLevelFieldsArePruned()
    {
        var obj = JsonNode.Parse("""{"apiVersion":"v","kind":"K","metadata":{"name":"n"},"spec":{"cidrs":["a/1"]},"extra":{}}""")!.AsObject();
        Assert.Empty(PodNetworkLike.Admit(obj));
        Assert.False(obj.ContainsKey("extra"));
    }

    [Fact]
    public void NullForANonNullableFieldIsDroppedThenDefaulted()
    {
        var (obj, causes) = Admit("""{"cidrs":["10.0.0.0/16"],"mode":null,"maybe":null}""");
        Assert.Empty(causes);
        Assert.Equal("Auto", obj["spec"]!["mode"]!.GetValue<string>());
        Assert.True(obj["spec"]!.AsObject().ContainsKey("maybe"));
    }

    [Theory]
    [InlineData("""{}""", "spec.cidrs", "FieldValueRequired")]
    [InlineData("""{"cidrs":[]}""", "spec.cidrs", "should have at least 1 items")]
    [InlineData("""{"cidrs":["a/1","b/2","c/3"]}""", "spec.cidrs", "must have at most 2 items")]
    [InlineData("""{"cidrs":"10.0.0.0/8"}""", "spec.cidrs", "must be of type array")]
    [InlineData("""{"cidrs":["x"]}""", "spec.cidrs[0]", "at least 3 chars long")]
    [InlineData("""{"cidrs":[7]}""", "spec.cidrs[0]", "must be of type string")]
    [InlineData("""{"cidrs":["a/1"],"blockSize":4}""", "spec.blockSize", "greater than or equal to 8")]
    [InlineData("""{"cidrs":["a/1"],"blockSize":200}""", "spec.blockSize", "less than or equal to 128")]
    [InlineData("""{"cidrs":["a/1"],"blockSize":24.5}""", "spec.blockSize", "must be of type integer")]
    [InlineData("""{"cidrs":["a/1"],"blockSize":"24"}""", "spec.blockSize", "must be of type integer")]
    [InlineData("""{"cidrs":["a/1"],"ratio":1}""", "spec.ratio", "should be less than 1")]
    [InlineData("""{"cidrs":["a/1"],"mode":"Tunnel"}""", "spec.mode", "Unsupported value")]
    [InlineData("""{"cidrs":["a/1"],"name":"Bad1"}""", "spec.name", "should match")]
    [InlineData("""{"cidrs":["a/1"],"natOutgoing":"yes"}""", "spec.natOutgoing", "must be of type boolean")]
    [InlineData("""{"cidrs":["a/1"],"port":1.5}""", "spec.port", "Invalid value")]
    [InlineData("""{"cidrs":["a/1"],"labels":{"a":1}}""", "spec.labels.a", "must be of type string")]
    [InlineData("""{"cidrs":["a/1"],"labels":{"a":"1","b":"2","c":"3"}}""", "spec.labels", "at most 2")]
    public void RefusesNamingTheField(string spec, string field, string message)
    {
        var (_, causes) = Admit(spec);
        var cause = Assert.Single(causes);
        Assert.Equal(field, cause.Field);
        Assert.Contains(message, cause.Reason + " " + cause.Message);
    }

    [Theory]
    [InlineData("""{"cidrs":["a/1"],"port":8080}""")]
    [InlineData("""{"cidrs":["a/1"],"port":"http"}""")]
    [InlineData("""{"cidrs":["a/1"],"ratio":0.5}""")]
    [InlineData("""{"cidrs":["a/1","b/2"],"mode":"VXLAN","blockSize":8}""")]
    public void AcceptsValidValues(string spec) => Assert.Empty(Admit(spec).Causes);

    [Fact]
    public void ReportsEveryProblemAtOnce()
    {
        var (_, causes) = Admit("""{"cidrs":[],"mode":"x","blockSize":1}""");
        Assert.Equal(["spec.blockSize", "spec.cidrs", "spec.mode"], causes.Select(c => c.Field).Order().ToArray());
    }

    [Fact]
    public void BadPatternInTheSchemaIsNamed()
    {
        var e = Assert.Throws<FormatException>(() => StructuralSchema.Parse(JsonNode.Parse("""{"type":"object","properties":{"x":{"type":"string","pattern":"(["}}}""")!.AsObject()));
        Assert.Contains("openAPIV3Schema.properties.x.pattern", e.Message);
    }

    [Fact]
    public void A_set_list_refuses_a_repeated_item_and_unknown_fields_are_named_not_kept()
    {
        var schema = StructuralSchema.Parse(JsonNode.Parse("""
            { "type": "object", "properties": {
                "cidrs": { "type": "array", "x-kubernetes-list-type": "set", "items": { "type": "string" } },
                "mode": { "type": "string", "default": "Auto" } } }
            """)!.AsObject());
        var value = JsonNode.Parse("""{"cidrs":["10.244.0.0/16","10.244.0.0/16"],"modee":"Direct"}""");

        var cause = Assert.Single(schema.Check(value, "spec"));
        Assert.Equal(("FieldValueDuplicate", "spec.cidrs"), (cause.Reason, cause.Field));
        Assert.Equal(["spec.modee"], schema.UnknownFields(value, "spec"));
        Assert.Equal("""{"cidrs":["10.244.0.0/16","10.244.0.0/16"],"mode":"Auto"}""", schema.Defaulted(value)!.ToJsonString());
        Assert.Equal("Direct", value!["modee"]!.GetValue<string>());
    }
}
