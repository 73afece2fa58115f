using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Trellis.ApiServer.Tests.Server;

public sealed class CustomResourceTests
{
    private static Widget NewWidget(string name, int? size = 3) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
        Spec = new WidgetSpec { Size = size },
    };

    [Fact]
    public async Task CrdIsEstablishedAndServedAtOnce()
    {
        await using var t = await TestServer.StartAsync();
        var crd = KubernetesJson.Deserialize<V1CustomResourceDefinition>(TestServer.WidgetCrd);
        await t.Client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(crd);
        var stored = await t.Client.ApiextensionsV1.ReadCustomResourceDefinitionAsync("widgets.test.trellis.io");
        Assert.Contains(stored.Status.Conditions, c => c.Type == "Established" && c.Status == "True");
        Assert.Contains(stored.Status.Conditions, c => c.Type == "NamesAccepted" && c.Status == "True");
        Assert.Equal("widgets", stored.Status.AcceptedNames.Plural);

        var (code, discovery) = await t.SendAsync(HttpMethod.Get, "/apis/test.trellis.io/v1");
        Assert.Equal(200, code);
        var names = discovery!["resources"]!.AsArray().Select(r => r!["name"]!.GetValue<string>()).ToArray();
        Assert.Equal(["widgets", "widgets/status"], names);
        var (_, groups) = await t.SendAsync(HttpMethod.Get, "/apis");
        Assert.Contains(groups!["groups"]!.AsArray(), g => g!["name"]!.GetValue<string>() == "test.trellis.io");
    }

    [Fact]
    public async Task CrudOfACustomResource()
    {
        await using var t = await TestServer.StartAsync();
        await t.InstallWidgetCrdAsync();
        using var widgets = new GenericClient(t.Client, Widget.Group, Widget.Version, Widget.Plural, disposeClient: false);

        var created = await widgets.CreateNamespacedAsync(NewWidget("w1"), "default");
        Assert.Equal("red", created.Spec.Color);
        Assert.Equal(1, created.Metadata.Generation);

        created.Spec.Size = 4;
        var updated = await widgets.ReplaceNamespacedAsync(created, "default", "w1");
        Assert.Equal(2, updated.Metadata.Generation);

        var list = await widgets.ListNamespacedAsync<WidgetList>("default");
        Assert.Equal(4, Assert.Single(list.Items).Spec.Size);

        await widgets.DeleteNamespacedAsync<Widget>("default", "w1");
        var e = await Assert.ThrowsAsync<HttpOperationException>(() => widgets.ReadNamespacedAsync<Widget>("default", "w1"));
        Assert.Equal(HttpStatusCode.NotFound, e.Response.StatusCode);
    }

    [Fact]
    public async Task SchemaPrunesDefaultsAndRejects()
    {
        await using var t = await TestServer.StartAsync();
        await t.InstallWidgetCrdAsync();
        using var widgets = new GenericClient(t.Client, Widget.Group, Widget.Version, Widget.Plural, disposeClient: false);

        var withUnknown = NewWidget("pruned");
        withUnknown.Spec.Unknown = "dropped";
        var pruned = await widgets.CreateNamespacedAsync(withUnknown, "default");
        Assert.Null(pruned.Spec.Unknown);

        async Task<string> Rejected(Widget w)
        {
            var e = await Assert.ThrowsAsync<HttpOperationException>(() => widgets.CreateNamespacedAsync(w, "default"));
            Assert.Equal((HttpStatusCode)422, e.Response.StatusCode);
            return e.Response.Content;
        }

        Assert.Contains("spec.size", await Rejected(NewWidget("missing-size", null)));
        Assert.Contains("should be less than or equal to 10", await Rejected(NewWidget("too-big", 11)));
        var badColor = NewWidget("bad-color");
        badColor.Spec.Color = "green";
        Assert.Contains("Unsupported value", await Rejected(badColor));
        var tooManyTags = NewWidget("tags");
        tooManyTags.Spec.Tags = ["a", "b", "c", "d"];
        Assert.Contains("must have at most 3 items", await Rejected(tooManyTags));
        var badTag = NewWidget("bad-tag");
        badTag.Spec.Tags = ["UPPER"];
        Assert.Contains("should match", await Rejected(badTag));
    }

    [Fact]
    public async Task UpdateWithoutResourceVersionIsInvalidForCustomResources()
    {
        await using var t = await TestServer.StartAsync();
        await t.InstallWidgetCrdAsync();
        using var widgets = new GenericClient(t.Client, Widget.Group, Widget.Version, Widget.Plural, disposeClient: false);
        var created = await widgets.CreateNamespacedAsync(NewWidget("w1"), "default");
        created.Metadata.ResourceVersion = null;
        var e = await Assert.ThrowsAsync<HttpOperationException>(() => widgets.ReplaceNamespacedAsync(created, "default", "w1"));
        Assert.Equal((HttpStatusCode)422, e.Response.StatusCode);
        Assert.Contains("metadata.resourceVersion", e.Response.Content);
    }

    [Fact]
    public async Task StatusSubresourceNeverBumpsGeneration()
    {
        await using var t = await TestServer.StartAsync();
        await t.InstallWidgetCrdAsync();
        var path = "/apis/test.trellis.io/v1/namespaces/default/widgets/w1";
        await t.Client.CustomObjects.CreateNamespacedCustomObjectAsync(NewWidget("w1"), Widget.Group, Widget.Version, "default", Widget.Plural);

        var (code, body) = await t.SendAsync(HttpMethod.Patch, path + "/status",
            """{"status":{"observedGeneration":1,"conditions":[{"type":"Ready","status":"True"}]},"spec":{"size":9}}""", "application/merge-patch+json");
        Assert.Equal(200, code);
        Assert.Equal(3, body!["spec"]!["size"]!.GetValue<int>());
        Assert.Equal(1, body["metadata"]!["generation"]!.GetValue<int>());
        Assert.Equal("True", body["status"]!["conditions"]![0]!["status"]!.GetValue<string>());
        var afterStatus = body["metadata"]!["resourceVersion"]!.GetValue<string>();

        (code, body) = await t.SendAsync(HttpMethod.Patch, path + "/status", """{"status":{"observedGeneration":1}}""", "application/merge-patch+json");
        Assert.Equal(200, code);
        Assert.Equal(afterStatus, body!["metadata"]!["resourceVersion"]!.GetValue<string>());

        (code, body) = await t.SendAsync(HttpMethod.Patch, path, """{"status":{"observedGeneration":7},"spec":{"size":5}}""", "application/merge-patch+json");
        Assert.Equal(200, code);
        Assert.Equal(1, body!["status"]!["observedGeneration"]!.GetValue<int>());
        Assert.Equal(2, body["metadata"]!["generation"]!.GetValue<int>());

        (code, _) = await t.SendAsync(HttpMethod.Patch, path, """{"spec":{"size":6}}""", "application/strategic-merge-patch+json");
        Assert.Equal(415, code);
        (code, _) = await t.SendAsync(HttpMethod.Patch, path, "spec:\n  size: 6\n", "application/apply-patch+yaml");
        Assert.Equal(422, code);
    }

    [Fact]
    public async Task DeletingTheCrdRemovesTheResourceAndItsObjects()
    {
        await using var t = await TestServer.StartAsync();
        await t.InstallWidgetCrdAsync();
        await t.Client.CustomObjects.CreateNamespacedCustomObjectAsync(NewWidget("w1"), Widget.Group, Widget.Version, "default", Widget.Plural);
        await t.Client.ApiextensionsV1.DeleteCustomResourceDefinitionAsync("widgets.test.trellis.io");
        var (code, _) = await t.SendAsync(HttpMethod.Get, "/apis/test.trellis.io/v1/namespaces/default/widgets");
        Assert.Equal(404, code);

        await t.InstallWidgetCrdAsync();
        var (_, list) = await t.SendAsync(HttpMethod.Get, "/apis/test.trellis.io/v1/namespaces/default/widgets");
        Assert.Empty(list!["items"]!.AsArray());
    }

    [Fact]
    public async Task InvalidCrdIsRefusedWithTheFieldNamed()
    {
        await using var t = await TestServer.StartAsync();
        var crd = JsonNode.Parse(TestServer.WidgetCrd)!;
        crd["spec"]!["scope"] = "Galaxy";
        var (code, body) = await t.SendAsync(HttpMethod.Post, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd.ToJsonString());
        Assert.Equal(422, code);
        Assert.Contains("spec.scope", body!["message"]!.GetValue<string>());
        (code, _) = await t.SendAsync(HttpMethod.Get, "/apis/test.trellis.io/v1");
        Assert.Equal(404, code);
    }

    /// <summary>
    /// As kube-apiserver compiles x-kubernetes-validations when a CRD is written: a rule that does not parse or does not
    /// type-check refuses the whole CRD with 422, naming the rule (kube-apiserver names a single-version CRD's schema
    /// spec.validation.openAPIV3Schema, its internal form; this server names spec.versions[0].schema.openAPIV3Schema).
    /// </summary>
    [Fact]
    public async Task CrdWhoseRuleDoesNotCompileIsRefusedNamingTheRule()
    {
        await using var t = await TestServer.StartAsync();
        var crd = JsonNode.Parse(TestServer.WidgetCrd)!;
        var spec = crd["spec"]!["versions"]![0]!["schema"]!["openAPIV3Schema"]!["properties"]!["spec"]!;
        spec["x-kubernetes-validations"] = JsonNode.Parse("""
            [{"rule": "self.size > 0"}, {"rule": "self.size >", "message": "half a rule"}, {"rule": "self.color.nosuch()"}, {"rule": "self.size + 1"}]
            """);
        var (code, body) = await t.SendAsync(HttpMethod.Post, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd.ToJsonString());
        Assert.True(code == 422, $"{code}: {body}");
        Assert.Equal("Invalid", body!["reason"]!.GetValue<string>());
        var causes = body["details"]!["causes"]!.AsArray().Select(c => (Field: c!["field"]!.GetValue<string>(), Message: c["message"]!.GetValue<string>())).ToList();
        const string Rules = "spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations";
        Assert.DoesNotContain(causes, c => c.Field == $"{Rules}[0].rule");
        Assert.Contains(causes, c => c.Field == $"{Rules}[1].rule" && c.Message.Contains("compilation failed"));
        Assert.Contains(causes, c => c.Field == $"{Rules}[2].rule" && c.Message.Contains("compilation failed"));
        Assert.Contains(causes, c => c.Field == $"{Rules}[3].rule" && c.Message.Contains("must evaluate to a bool"));
        Assert.Contains($"{Rules}[1].rule: Invalid value: ", body["message"]!.GetValue<string>());
        (code, _) = await t.SendAsync(HttpMethod.Get, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.test.trellis.io");
        Assert.Equal(404, code);
        (code, _) = await t.SendAsync(HttpMethod.Get, "/apis/test.trellis.io/v1");
        Assert.Equal(404, code);

        // Updating a good CRD to a rule that does not compile is refused too, and the served schema stays as it was.
        await t.InstallWidgetCrdAsync();
        var (_, stored) = await t.SendAsync(HttpMethod.Get, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.test.trellis.io");
        stored!["spec"]!["versions"]![0]!["schema"]!["openAPIV3Schema"]!["properties"]!["spec"]!["x-kubernetes-validations"] = JsonNode.Parse("""[{"rule": "self.size >"}]""");
        (code, body) = await t.SendAsync(HttpMethod.Put, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.test.trellis.io", stored.ToJsonString());
        Assert.True(code == 422, $"{code}: {body}");
        Assert.Contains($"{Rules}[0].rule", body!["message"]!.GetValue<string>());
        (code, _) = await t.SendAsync(HttpMethod.Post, "/apis/test.trellis.io/v1/namespaces/default/widgets", """{"apiVersion":"test.trellis.io/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"size":1}}""");
        Assert.Equal(201, code);
    }

    [Fact]
    public async Task TablesUsePrinterColumns()
    {
        await using var t = await TestServer.StartAsync();
        await t.InstallWidgetCrdAsync();
        var widget = NewWidget("w1");
        widget.Spec.Tags = ["x", "y"];
        await t.Client.CustomObjects.CreateNamespacedCustomObjectAsync(widget, Widget.Group, Widget.Version, "default", Widget.Plural);
        await t.SendAsync(HttpMethod.Patch, "/apis/test.trellis.io/v1/namespaces/default/widgets/w1/status",
            """{"status":{"conditions":[{"type":"Other","status":"False"},{"type":"Ready","status":"True"}]}}""", "application/merge-patch+json");

        var (code, table) = await t.SendAsync(HttpMethod.Get, "/apis/test.trellis.io/v1/namespaces/default/widgets", accept: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json");
        Assert.Equal(200, code);
        Assert.Equal("Table", table!["kind"]!.GetValue<string>());
        Assert.Equal(["Name", "Size", "Color", "Tags", "Ready", "Age"], table["columnDefinitions"]!.AsArray().Select(c => c!["name"]!.GetValue<string>()).ToArray());
        var row = Assert.Single(table["rows"]!.AsArray())!;
        var cells = row["cells"]!.AsArray();
        Assert.Equal("w1", cells[0]!.GetValue<string>());
        Assert.Equal(3, cells[1]!.GetValue<int>());
        Assert.Equal("red", cells[2]!.GetValue<string>());
        Assert.Equal("x,y", cells[3]!.GetValue<string>());
        Assert.Equal("True", cells[4]!.GetValue<string>());
        Assert.EndsWith("s", cells[5]!.GetValue<string>());
        Assert.Equal("PartialObjectMetadata", row["object"]!["kind"]!.GetValue<string>());
    }

    [Fact]
    public async Task KubernetesClientWatchesCustomResources()
    {
        await using var t = await TestServer.StartAsync();
        await t.InstallWidgetCrdAsync();
        using var widgets = new GenericClient(t.Client, Widget.Group, Widget.Version, Widget.Plural, disposeClient: false);
        await widgets.CreateNamespacedAsync(NewWidget("before"), "default");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var seen = new List<string>();
        var watching = Task.Run(async () =>
        {
            await foreach (var (type, widget) in widgets.WatchAsync<Widget>(cancel: cts.Token))
            {
                seen.Add($"{type} {widget.Metadata.Name} {widget.Spec.Size}");
                if (type == WatchEventType.Deleted) return;
            }
        });
        await Task.Delay(300);
        await widgets.PatchNamespacedAsync<Widget>(new V1Patch("""{"spec":{"size":5}}""", V1Patch.PatchType.MergePatch), "default", "before");
        await widgets.DeleteNamespacedAsync<Widget>("default", "before");
        await watching.WaitAsync(cts.Token);
        Assert.Equal(["Added before 3", "Modified before 5", "Deleted before 5"], seen);
    }

    [Fact]
    public async Task UpdatingTheCrdChangesWhatIsServed()
    {
        await using var t = await TestServer.StartAsync();
        await t.InstallWidgetCrdAsync();
        const string crdPath = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.test.trellis.io";
        var (code, _) = await t.SendAsync(HttpMethod.Patch, crdPath,
            """
            [{"op":"replace","path":"/spec/versions/0/additionalPrinterColumns","value":[{"name":"Big","type":"boolean","jsonPath":".spec.big"}]},
             {"op":"add","path":"/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/big","value":{"type":"boolean"}}]
            """, "application/json-patch+json");
        Assert.Equal(200, code);
        (code, _) = await t.SendAsync(HttpMethod.Post, "/apis/test.trellis.io/v1/namespaces/default/widgets", """{"metadata":{"name":"w1"},"spec":{"size":1,"big":true}}""");
        Assert.Equal(201, code);
        var (_, table) = await t.SendAsync(HttpMethod.Get, "/apis/test.trellis.io/v1/widgets", accept: "application/json;as=Table;v=v1;g=meta.k8s.io");
        Assert.Equal(["Name", "Big"], table!["columnDefinitions"]!.AsArray().Select(c => c!["name"]!.GetValue<string>()).ToArray());
        Assert.True(table["rows"]![0]!["cells"]![1]!.GetValue<bool>());
        var (_, crd) = await t.SendAsync(HttpMethod.Get, crdPath);
        Assert.Equal(2, crd!["metadata"]!["generation"]!.GetValue<int>());
        Assert.Contains(crd["status"]!["conditions"]!.AsArray(), c => c!["type"]!.GetValue<string>() == "Established");

        var (refused, status) = await t.SendAsync(HttpMethod.Patch, crdPath, """{"spec":{"scope":"Cluster"}}""", "application/merge-patch+json");
        Assert.Equal(422, refused);
        Assert.Contains("spec.scope", status!["message"]!.GetValue<string>());
        Assert.Equal(200, (await t.SendAsync(HttpMethod.Get, "/apis/test.trellis.io/v1/namespaces/default/widgets/w1")).Code);
    }
}
