using System.Text.Json.Nodes;
using Trellis.ApiServer.FieldManagement;
using Trellis.ApiServer.Tests.Server;
using Trellis.Testing;

namespace Trellis.ApiServer.Tests.FieldManagement;

/// <summary>Field ownership and the apply merge, pure and through the server.</summary>
public sealed class FieldManagerTests
{
    private static readonly FieldShape Conditions = FieldShape.FromSchema(JsonNode.Parse("""
        {"type":"object","properties":{
          "tags":{"type":"array","x-kubernetes-list-type":"set","items":{"type":"string"}},
          "hosts":{"type":"array","items":{"type":"string"}},
          "labels":{"type":"object","additionalProperties":{"type":"string"}},
          "selector":{"type":"object","x-kubernetes-map-type":"atomic","properties":{"a":{"type":"string"},"b":{"type":"string"}}},
          "conditions":{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["type"],
            "items":{"type":"object","properties":{"type":{"type":"string"},"status":{"type":"string"},"reason":{"type":"string"}}}}}}
        """)!.AsObject());

    private static JsonObject J(string json) => JsonNode.Parse(json)!.AsObject();

    [Fact]
    public void FieldsV1RoundTripsThroughTheTree()
    {
        var set = FieldSet.Of(J("""{"tags":["a","b"],"hosts":["x"],"labels":{"k":"v"},"selector":{"a":"1"},"conditions":[{"type":"Ready","status":"True"}]}"""), Conditions);
        var fields = set.ToFieldsV1();
        var relaxed = new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        Assert.Equal("""{"f:conditions":{"k:{\"type\":\"Ready\"}":{".":{},"f:status":{},"f:type":{}}},"f:hosts":{},"f:labels":{"f:k":{}},"f:selector":{},"f:tags":{"v:\"a\"":{},"v:\"b\"":{}}}""",
            fields.ToJsonString(relaxed));
        Assert.Equal(set.Paths.Order(), FieldSet.FromFieldsV1(fields).Paths.Order());
    }

    [Fact]
    public void DescribesPathsAsStructuredMergeDiffDoes()
    {
        Assert.Equal(".spec.mtu", FieldSet.Describe("f:spec\nf:mtu"));
        Assert.Equal(".status.conditions[type=\"Ready\"].status", FieldSet.Describe("f:status\nf:conditions\nk:{\"type\":\"Ready\"}\nf:status"));
        Assert.Equal(".spec.cidrs[=\"10.0.0.0/8\"]", FieldSet.Describe("f:spec\nf:cidrs\nv:\"10.0.0.0/8\""));
    }

    [Fact]
    public void TwoAppliersShareMapListItemsFieldByField()
    {
        var first = FieldManager.Apply(null, J("""{"conditions":[{"type":"Ready","status":"True"}],"tags":["a"]}"""), Conditions, "one", "v1", "", false, "t1");
        var second = FieldManager.Apply(first, J("""{"conditions":[{"type":"Ready","reason":"Fine"},{"type":"Synced","status":"True"}],"tags":["b"]}"""), Conditions, "two", "v1", "", false, "t2");
        Assert.Equal("""[{"type":"Ready","status":"True","reason":"Fine"},{"type":"Synced","status":"True"}]""", second["conditions"]!.ToJsonString());
        Assert.Equal("""["a","b"]""", second["tags"]!.ToJsonString());
        // "one" stops applying its condition: only what "one" alone owned goes.
        var third = FieldManager.Apply(second, J("""{"tags":["a"]}"""), Conditions, "one", "v1", "", false, "t3");
        Assert.Equal("""[{"type":"Ready","reason":"Fine"},{"type":"Synced","status":"True"}]""", third["conditions"]!.ToJsonString());
        var conflict = Assert.Throws<ApiError>(() => FieldManager.Apply(third, J("""{"conditions":[{"type":"Synced","status":"False"}]}"""), Conditions, "one", "v1", "", false, "t4"));
        Assert.Equal(409, conflict.Code);
        Assert.Equal("Apply failed with 1 conflict: conflict with \"two\": .conditions[type=\"Synced\"].status", conflict.Message);
        Assert.Equal(".conditions[type=\"Synced\"].status", conflict.Causes.Single().Field);
        var forced = FieldManager.Apply(third, J("""{"conditions":[{"type":"Synced","status":"False"}]}"""), Conditions, "one", "v1", "", true, "t4");
        var owners = FieldManager.Read(forced);
        Assert.DoesNotContain("f:conditions\nk:{\"type\":\"Synced\"}\nf:status", owners.Single(e => e.Manager == "two").Fields.Paths);
        Assert.Contains("f:conditions\nk:{\"type\":\"Synced\"}\nf:status", owners.Single(e => e.Manager == "one").Fields.Paths);
    }

    [Fact]
    public void AtomicPartsAreOwnedAndReplacedWhole()
    {
        var first = FieldManager.Apply(null, J("""{"hosts":["a","b"],"selector":{"a":"1","b":"2"}}"""), Conditions, "one", "v1", "", false, "t1");
        var replaced = FieldManager.Apply(first, J("""{"hosts":["c"],"selector":{"a":"9"}}"""), Conditions, "one", "v1", "", false, "t2");
        Assert.Equal("""["c"]""", replaced["hosts"]!.ToJsonString());
        Assert.Equal("""{"a":"9"}""", replaced["selector"]!.ToJsonString());
        Assert.Throws<ApiError>(() => FieldManager.Apply(replaced, J("""{"hosts":["d"]}"""), Conditions, "two", "v1", "", false, "t3"));
    }

    [Fact]
    public void UpdatesMoveOwnershipOfWhatTheyChange()
    {
        var applied = FieldManager.Apply(null, J("""{"labels":{"a":"1","b":"2"}}"""), Conditions, "applier", "v1", "", false, "t1");
        var edited = applied.DeepClone().AsObject();
        edited["labels"]!["a"] = "changed";
        edited["labels"]!.AsObject().Remove("b");
        edited["metadata"]!["managedFields"] = FieldManager.TrackUpdate(applied, edited, Conditions, "editor", "v1", "", "t2");
        var owners = FieldManager.Read(edited);
        Assert.Equal(["f:labels\nf:a"], owners.Single(e => e.Manager == "editor").Fields.Paths);
        Assert.DoesNotContain(owners, e => e.Manager == "applier");
        Assert.Equal("t2", owners.Single(e => e.Manager == "editor").Time);
    }

    [Fact]
    public async Task StatusIsAppliedThroughItsSubresourceAndConditionsMergeByType()
    {
        await using var t = await TestServer.StartAsync();
        await TrellisCrds.RegisterAsync(t.Client);
        const string apply = "application/apply-patch+yaml";
        var created = await t.SendAsync(HttpMethod.Patch, "/apis/trellis.io/v1alpha1/podnetworks/n1?fieldManager=flux", """
            apiVersion: trellis.io/v1alpha1
            kind: PodNetwork
            metadata:
              name: n1
            spec:
              cidrs: ["10.210.0.0/16"]
            """, apply);
        Assert.True(created.Code == 201, created.Body?.ToJsonString());
        var condition = """{"apiVersion":"trellis.io/v1alpha1","kind":"PodNetwork","metadata":{"name":"n1"},"status":{"conditions":[{"type":"%T","status":"True","lastTransitionTime":"2024-01-01T00:00:00Z","reason":"R","message":"m"}]}}""";
        Assert.Equal(200, (await t.SendAsync(HttpMethod.Patch, "/apis/trellis.io/v1alpha1/podnetworks/n1/status?fieldManager=operator", condition.Replace("%T", "Ready"), apply)).Code);
        var (code, body) = await t.SendAsync(HttpMethod.Patch, "/apis/trellis.io/v1alpha1/podnetworks/n1/status?fieldManager=checker", condition.Replace("%T", "Valid"), apply);
        Assert.Equal(200, code);
        Assert.Equal(["Ready", "Valid"], body!["status"]!["conditions"]!.AsArray().Select(c => c!["type"]!.GetValue<string>()));
        var managers = body["metadata"]!["managedFields"]!.AsArray().Select(e => $"{e!["manager"]}/{e["operation"]}/{e["subresource"]}").ToArray();
        Assert.Equal(["flux/Apply/", "operator/Apply/status", "checker/Apply/status"], managers);
        var (conflictCode, conflict) = await t.SendAsync(HttpMethod.Patch, "/apis/trellis.io/v1alpha1/podnetworks/n1/status?fieldManager=checker",
            condition.Replace("%T", "Ready").Replace("\"True\"", "\"False\""), apply);
        Assert.Equal(409, conflictCode);
        Assert.Equal("Apply failed with 1 conflict: conflict with \"operator\" with subresource \"status\": .status.conditions[type=\"Ready\"].status", conflict!["message"]!.GetValue<string>());
        // Status fields in a main-resource apply are ignored, as the status subresource owns them.
        var (_, main) = await t.SendAsync(HttpMethod.Patch, "/apis/trellis.io/v1alpha1/podnetworks/n1?fieldManager=flux",
            """{"apiVersion":"trellis.io/v1alpha1","kind":"PodNetwork","metadata":{"name":"n1"},"spec":{"cidrs":["10.210.0.0/16"]},"status":{"nodes":7}}""", apply);
        Assert.Null(main!["status"]!["nodes"]);
        Assert.Equal(400, (await t.SendAsync(HttpMethod.Patch, "/apis/trellis.io/v1alpha1/podnetworks/n1?fieldManager=flux",
            """{"apiVersion":"trellis.io/v1alpha1","kind":"PodNetwork","metadata":{"name":"other"}}""", apply)).Code);
        Assert.Equal(422, (await t.SendAsync(HttpMethod.Patch, "/apis/trellis.io/v1alpha1/podnetworks/n1",
            """{"apiVersion":"trellis.io/v1alpha1","kind":"PodNetwork","metadata":{"name":"n1"}}""", apply)).Code);
        Assert.Equal(422, (await t.SendAsync(HttpMethod.Patch, "/apis/trellis.io/v1alpha1/podnetworks/n1?force=true",
            """{"spec":{"mtu":0}}""", "application/merge-patch+json")).Code);
    }
}
