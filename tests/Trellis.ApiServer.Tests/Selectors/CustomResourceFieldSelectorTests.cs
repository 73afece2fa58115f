using System.Text.Json.Nodes;
using Trellis.ApiServer.Tests.Server;
using Trellis.Testing;

namespace Trellis.ApiServer.Tests.Selectors;

/// <summary>
/// Field selectors on custom resources, as kube-apiserver serves them: metadata.name (and metadata.namespace when
/// namespaced) always, a CRD version's selectableFields besides, and 400 "field label not supported" for anything else.
/// </summary>
public sealed class CustomResourceFieldSelectorTests
{
    private const string PodNetworks = "/apis/trellis.io/v1alpha1/podnetworks";

    private static string[] Names(JsonNode? list) => list!["items"]!.AsArray().Select(i => i!["metadata"]!["name"]!.GetValue<string>()).Order().ToArray();

    [Fact]
    public async Task PodNetworks_select_on_metadata_name_and_refuse_any_other_field()
    {
        await using var t = await TestServer.StartAsync();
        await TrellisCrds.RegisterAsync(t.Client);
        foreach (var (name, cidr) in new[] { ("blue", "10.244.0.0/16"), ("green", "10.245.0.0/16") })
            Assert.Equal(201, (await t.SendAsync(HttpMethod.Post, PodNetworks,
                $$$"""{"apiVersion":"trellis.io/v1alpha1","kind":"PodNetwork","metadata":{"name":"{{{name}}}"},"spec":{"cidrs":["{{{cidr}}}"]}}""")).Code);

        var (code, list) = await t.SendAsync(HttpMethod.Get, $"{PodNetworks}?fieldSelector=metadata.name%3Dgreen");
        Assert.Equal(200, code);
        Assert.Equal(["green"], Names(list));
        (code, list) = await t.SendAsync(HttpMethod.Get, $"{PodNetworks}?fieldSelector=metadata.name!%3Dgreen");
        Assert.Equal(200, code);
        Assert.Equal(["blue"], Names(list));

        foreach (var field in new[] { "spec.routing.mode%3DAuto", "status.nodes%3D0", "metadata.namespace%3Ddefault", "metadata.uid%3Dx" })
        {
            var (refused, body) = await t.SendAsync(HttpMethod.Get, $"{PodNetworks}?fieldSelector={field}");
            Assert.True(refused == 400, $"{field}: {refused} {body}");
            Assert.Equal("BadRequest", body!["reason"]!.GetValue<string>());
            Assert.Equal($"field label not supported: {field.Split("%3D")[0]}", body["message"]!.GetValue<string>());
        }
        // A watch is filtered the same way and refused the same way.
        var (watchCode, _) = await t.SendAsync(HttpMethod.Get, $"{PodNetworks}?watch=true&fieldSelector=spec.cidrs%3Dx");
        Assert.Equal(400, watchCode);
    }

    [Fact]
    public async Task A_crd_declaring_selectableFields_selects_on_them()
    {
        await using var t = await TestServer.StartAsync();
        var crd = JsonNode.Parse(TestServer.WidgetCrd)!;
        crd["spec"]!["versions"]![0]!["selectableFields"] = JsonNode.Parse("""[{"jsonPath": ".spec.color"}, {"jsonPath": ".spec.size"}]""");
        var (created, crdBody) = await t.SendAsync(HttpMethod.Post, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd.ToJsonString());
        Assert.True(created == 201, crdBody?.ToJsonString());
        const string Widgets = "/apis/test.trellis.io/v1/namespaces/default/widgets";
        foreach (var (name, color, size) in new[] { ("a", "red", 1), ("b", "blue", 2), ("c", "blue", 3) })
            Assert.Equal(201, (await t.SendAsync(HttpMethod.Post, Widgets,
                """{"apiVersion":"test.trellis.io/v1","kind":"Widget","metadata":{"name":"NAME"},"spec":{"color":"COLOR","size":SIZE}}"""
                .Replace("NAME", name).Replace("COLOR", color).Replace("SIZE", size.ToString()))).Code);

        var (code, list) = await t.SendAsync(HttpMethod.Get, $"{Widgets}?fieldSelector=spec.color%3Dblue");
        Assert.True(code == 200, list?.ToJsonString());
        Assert.Equal(["b", "c"], Names(list));
        (code, list) = await t.SendAsync(HttpMethod.Get, $"{Widgets}?fieldSelector=spec.color%3Dblue,spec.size!%3D3");
        Assert.Equal(200, code);
        Assert.Equal(["b"], Names(list));
        (code, list) = await t.SendAsync(HttpMethod.Get, $"/apis/test.trellis.io/v1/widgets?fieldSelector=metadata.namespace%3Ddefault,spec.color%3Dred");
        Assert.Equal(200, code);
        Assert.Equal(["a"], Names(list));
        var (refused, body) = await t.SendAsync(HttpMethod.Get, $"{Widgets}?fieldSelector=spec.tags%3Dx");
        Assert.Equal(400, refused);
        Assert.Equal("field label not supported: spec.tags", body!["message"]!.GetValue<string>());
    }
}
