using System.Text.Json.Nodes;

namespace Trellis.ApiServer.Tests.Server;

/// <summary>Foreground and orphan deletion, delete-collection, label and annotation keys, field selectors: the rest of what the real server enforces.</summary>
public sealed class DeletionAndMetadataTests
{
    private const string ConfigMaps = "/api/v1/namespaces/default/configmaps";

    private static async Task<string> CreateAsync(TestServer t, string name, string? ownerUid = null, bool block = true, string? finalizer = null)
    {
        var metadata = new JsonObject { ["name"] = name, ["labels"] = new JsonObject { ["set"] = "gc" } };
        if (ownerUid is not null)
            metadata["ownerReferences"] = new JsonArray(new JsonObject
            {
                ["apiVersion"] = "v1", ["kind"] = "ConfigMap", ["name"] = "owner", ["uid"] = ownerUid, ["blockOwnerDeletion"] = block,
            });
        if (finalizer is not null) metadata["finalizers"] = new JsonArray(finalizer);
        var (code, body) = await t.SendAsync(HttpMethod.Post, ConfigMaps, new JsonObject { ["metadata"] = metadata }.ToJsonString());
        Assert.True(code == 201, body?.ToJsonString());
        return body!["metadata"]!["uid"]!.GetValue<string>();
    }

    private static async Task<JsonNode?> GetAsync(TestServer t, string name)
    {
        var (code, body) = await t.SendAsync(HttpMethod.Get, $"{ConfigMaps}/{name}");
        return code == 404 ? null : body;
    }

    [Fact]
    public async Task ForegroundDeletionKeepsTheOwnerUntilBlockingDependentsAreGone()
    {
        await using var t = await TestServer.StartAsync();
        var owner = await CreateAsync(t, "owner");
        await CreateAsync(t, "plain", owner);
        await CreateAsync(t, "held", owner, finalizer: "example.com/hold");
        await CreateAsync(t, "loose", owner, block: false, finalizer: "example.com/hold");

        var (code, deleted) = await t.SendAsync(HttpMethod.Delete, $"{ConfigMaps}/owner", """{"propagationPolicy":"Foreground"}""");
        Assert.Equal(200, code);
        Assert.NotNull(deleted!["metadata"]!["deletionTimestamp"]);
        Assert.Contains("foregroundDeletion", deleted["metadata"]!["finalizers"]!.AsArray().Select(f => f!.GetValue<string>()));
        Assert.Null(await GetAsync(t, "plain"));
        Assert.NotNull((await GetAsync(t, "held"))!["metadata"]!["deletionTimestamp"]);
        Assert.NotNull(await GetAsync(t, "owner"));

        // The dependent that does not block deletion (blockOwnerDeletion false) is not waited for.
        Assert.Equal(200, (await t.SendAsync(HttpMethod.Patch, $"{ConfigMaps}/held", """{"metadata":{"finalizers":null}}""", "application/merge-patch+json")).Code);
        Assert.Null(await GetAsync(t, "held"));
        Assert.Null(await GetAsync(t, "owner"));
        Assert.NotNull(await GetAsync(t, "loose"));
    }

    [Fact]
    public async Task ADependentCreatedWhileItsOwnerWaitsForDependentsIsCollected()
    {
        await using var t = await TestServer.StartAsync();
        var owner = await CreateAsync(t, "owner");
        await CreateAsync(t, "held", owner, finalizer: "example.com/hold");
        Assert.Equal(200, (await t.SendAsync(HttpMethod.Delete, $"{ConfigMaps}/owner", """{"propagationPolicy":"Foreground"}""")).Code);

        // A controller whose cache still shows the owner alive makes a dependent again: the collector takes it at once.
        await CreateAsync(t, "late", owner);
        Assert.Null(await GetAsync(t, "late"));
        // One that has another owner, not being deleted, only loses the reference to the one that goes.
        var other = await CreateAsync(t, "other");
        Assert.Equal(201, (await t.SendAsync(HttpMethod.Post, ConfigMaps, $$"""
            {"metadata":{"name":"shared","ownerReferences":[
              {"apiVersion":"v1","kind":"ConfigMap","name":"owner","uid":"{{owner}}","blockOwnerDeletion":true},
              {"apiVersion":"v1","kind":"ConfigMap","name":"other","uid":"{{other}}"}]} }
            """)).Code);
        var shared = (await GetAsync(t, "shared"))!;
        Assert.Equal([other], shared["metadata"]!["ownerReferences"]!.AsArray().Select(r => r!["uid"]!.GetValue<string>()));

        // The owner still waits for the dependent with a finalizer, and goes with it.
        Assert.NotNull((await GetAsync(t, "owner"))!["metadata"]!["deletionTimestamp"]);
        Assert.Equal(200, (await t.SendAsync(HttpMethod.Patch, $"{ConfigMaps}/held", """{"metadata":{"finalizers":null}}""", "application/merge-patch+json")).Code);
        Assert.Null(await GetAsync(t, "owner"));
    }

    [Fact]
    public async Task OrphanDeletionLeavesDependentsWithoutTheReference()
    {
        await using var t = await TestServer.StartAsync();
        var owner = await CreateAsync(t, "owner", finalizer: "example.com/hold");
        await CreateAsync(t, "dependent", owner);
        var (code, deleted) = await t.SendAsync(HttpMethod.Delete, $"{ConfigMaps}/owner?propagationPolicy=Orphan");
        Assert.Equal(200, code);
        Assert.NotNull(deleted!["metadata"]!["deletionTimestamp"]);
        var dependent = await GetAsync(t, "dependent");
        Assert.NotNull(dependent);
        Assert.Null(dependent!["metadata"]!["ownerReferences"]);
        Assert.Equal(422, (await t.SendAsync(HttpMethod.Delete, $"{ConfigMaps}/dependent?propagationPolicy=Sideways")).Code);
    }

    [Fact]
    public async Task DeleteCollectionDeletesWhatTheSelectorsMatch()
    {
        await using var t = await TestServer.StartAsync();
        await CreateAsync(t, "a");
        await CreateAsync(t, "b");
        Assert.Equal(201, (await t.SendAsync(HttpMethod.Post, ConfigMaps, """{"metadata":{"name":"other"}}""")).Code);
        var (code, body) = await t.SendAsync(HttpMethod.Delete, $"{ConfigMaps}?labelSelector=set%3Dgc&dryRun=All");
        Assert.Equal(200, code);
        Assert.Equal(2, body!["items"]!.AsArray().Count);
        Assert.NotNull(await GetAsync(t, "a"));
        (code, body) = await t.SendAsync(HttpMethod.Delete, $"{ConfigMaps}?labelSelector=set%3Dgc");
        Assert.Equal(200, code);
        Assert.Equal("ConfigMapList", body!["kind"]!.GetValue<string>());
        Assert.Equal(["a", "b"], body["items"]!.AsArray().Select(i => i!["metadata"]!["name"]!.GetValue<string>()).Order());
        Assert.Null(await GetAsync(t, "a"));
        Assert.NotNull(await GetAsync(t, "other"));
    }

    [Theory]
    [InlineData("""{"labels":{"bad key!":"v"}}""", "metadata.labels", "Invalid value: \"bad key!\": name part must consist of alphanumeric characters")]
    [InlineData("""{"labels":{"Example.COM/app":"v"}}""", "metadata.labels", "Invalid value: \"Example.COM/app\": prefix part a lowercase RFC 1123 subdomain")]
    [InlineData("""{"labels":{"a/b/c":"v"}}""", "metadata.labels", "a qualified name must consist of alphanumeric characters")]
    [InlineData("""{"labels":{"app":"has space"}}""", "metadata.labels", "Invalid value: \"has space\": a valid label must be an empty string or consist of alphanumeric characters")]
    [InlineData("""{"labels":{"app":"a234567890123456789012345678901234567890123456789012345678901234"}}""", "metadata.labels", "must be no more than 63 characters")]
    [InlineData("""{"labels":{"a234567890123456789012345678901234567890123456789012345678901234":"v"}}""", "metadata.labels", "name part must be no more than 63 characters")]
    [InlineData("""{"annotations":{"-leading":"x"}}""", "metadata.annotations", "name part must consist of alphanumeric characters")]
    public async Task LabelAndAnnotationKeysAreValidated(string metadata, string field, string message)
    {
        await using var t = await TestServer.StartAsync();
        var obj = JsonNode.Parse(metadata)!.AsObject();
        obj["name"] = "x";
        var (code, body) = await t.SendAsync(HttpMethod.Post, ConfigMaps, new JsonObject { ["metadata"] = obj }.ToJsonString());
        Assert.Equal(422, code);
        var cause = body!["details"]!["causes"]!.AsArray().Single();
        Assert.Equal(field, cause!["field"]!.GetValue<string>());
        Assert.Contains(message, cause["message"]!.GetValue<string>());
        Assert.Null(await GetAsync(t, "x"));
        // The same keys are refused on update, and nothing changes.
        Assert.Equal(201, (await t.SendAsync(HttpMethod.Post, ConfigMaps, """{"metadata":{"name":"y","labels":{"example.com/ok":"fine","k8s.io_ok.key-1":""}}}""")).Code);
        Assert.Equal(422, (await t.SendAsync(HttpMethod.Patch, $"{ConfigMaps}/y", new JsonObject { ["metadata"] = JsonNode.Parse(metadata) }.ToJsonString(), "application/merge-patch+json")).Code);
    }

    [Fact]
    public async Task AnnotationsAreLimitedTo256KiBInAll()
    {
        await using var t = await TestServer.StartAsync();
        var big = new string('x', 200 * 1024);
        var (code, body) = await t.SendAsync(HttpMethod.Post, ConfigMaps, "{\"metadata\":{\"name\":\"big\",\"annotations\":{\"a\":\"" + big + "\",\"b\":\"" + big + "\"}}}");
        Assert.Equal(422, code);
        Assert.Equal("metadata.annotations", body!["details"]!["causes"]![0]!["field"]!.GetValue<string>());
        Assert.Contains("Too long: may not be more than 262144 bytes", body["message"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("/api/v1/namespaces/default/pods?fieldSelector=spec.nodeName%3Dnode1", 200)]
    [InlineData("/api/v1/namespaces/default/pods?fieldSelector=spec.containers%3Dx", 400)]
    [InlineData("/api/v1/namespaces/default/configmaps?fieldSelector=metadata.name%3Dx", 200)]
    [InlineData("/api/v1/namespaces/default/configmaps?fieldSelector=data.x%3Dy", 400)]
    [InlineData("/api/v1/nodes?fieldSelector=spec.unschedulable%3Dtrue", 200)]
    [InlineData("/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dn,type%3DWarning", 200)]
    public async Task FieldSelectorsNameOnlySelectableFields(string path, int expected)
    {
        await using var t = await TestServer.StartAsync();
        var (code, body) = await t.SendAsync(HttpMethod.Get, path);
        Assert.Equal(expected, code);
        if (expected == 400) Assert.StartsWith("field label not supported: ", body!["message"]!.GetValue<string>());
    }
}
