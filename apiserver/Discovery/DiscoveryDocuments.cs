using System.Text.Json.Nodes;
using Trellis.ApiServer.Storage;

namespace Trellis.ApiServer.Discovery;

/// <summary>
/// The legacy (unaggregated) discovery documents. kubectl asks for aggregated v2 discovery first;
/// these are served as plain application/json, which tells it to fall back to per-group lookups.
/// </summary>
public static class DiscoveryDocuments
{
    public const string GitVersion = "v1.32.0";

    public static JsonObject Version() => new()
    {
        ["major"] = "1",
        ["minor"] = "32",
        ["gitVersion"] = GitVersion,
        ["gitCommit"] = "0000000000000000000000000000000000000000",
        ["gitTreeState"] = "clean",
        ["buildDate"] = "2024-12-11T00:00:00Z",
        ["goVersion"] = "go1.23.3",
        ["compiler"] = "gc",
        ["platform"] = "linux/amd64",
    };

    public static JsonObject CoreVersions(string serverAddress) => new()
    {
        ["kind"] = "APIVersions",
        ["versions"] = new JsonArray("v1"),
        ["serverAddressByClientCIDRs"] = new JsonArray(new JsonObject { ["clientCIDR"] = "0.0.0.0/0", ["serverAddress"] = serverAddress }),
    };

    public static JsonObject GroupList(ResourceRegistry registry) => new()
    {
        ["kind"] = "APIGroupList",
        ["apiVersion"] = "v1",
        ["groups"] = new JsonArray(registry.Groups().Select(g => (JsonNode)Group(g.Group, g.Versions)).ToArray()),
    };

    public static JsonObject? Group(ResourceRegistry registry, string group)
    {
        var match = registry.Groups().FirstOrDefault(g => g.Group == group);
        if (match.Group is null) return null;
        var document = Group(match.Group, match.Versions);
        document["kind"] = "APIGroup";
        document["apiVersion"] = "v1";
        return document;
    }

    private static JsonObject Group(string group, IReadOnlyList<string> versions)
    {
        JsonObject Entry(string version) => new() { ["groupVersion"] = $"{group}/{version}", ["version"] = version };
        return new JsonObject
        {
            ["name"] = group,
            ["versions"] = new JsonArray(versions.Select(v => (JsonNode)Entry(v)).ToArray()),
            ["preferredVersion"] = Entry(versions[0]),
        };
    }

    /// <returns>Null when no resource is served at that group/version.</returns>
    public static JsonObject? ResourceList(ResourceRegistry registry, string group, string version)
    {
        var types = registry.All.Where(t => t.Group == group && t.Version == version).ToArray();
        if (types.Length == 0) return null;
        var resources = new JsonArray();
        foreach (var type in types)
        {
            var entry = new JsonObject
            {
                ["name"] = type.Plural,
                ["singularName"] = type.Singular,
                ["namespaced"] = type.Namespaced,
                ["kind"] = type.Kind,
                ["verbs"] = new JsonArray(type.Verbs.Select(v => (JsonNode)v).ToArray()),
            };
            if (type.ShortNames.Count > 0) entry["shortNames"] = new JsonArray(type.ShortNames.Select(s => (JsonNode)s).ToArray());
            if (type.Categories.Count > 0) entry["categories"] = new JsonArray(type.Categories.Select(s => (JsonNode)s).ToArray());
            resources.Add(entry);
            if (type.HasStatus)
                resources.Add(new JsonObject
                {
                    ["name"] = $"{type.Plural}/status",
                    ["singularName"] = "",
                    ["namespaced"] = type.Namespaced,
                    ["kind"] = type.Kind,
                    ["verbs"] = new JsonArray("get", "patch", "update"),
                });
            foreach (var sub in type.ExtraSubresources)
            {
                var subresource = new JsonObject { ["name"] = $"{type.Plural}/{sub.Name}", ["singularName"] = "", ["namespaced"] = type.Namespaced };
                // Discovery names the subresource's kind's group and version only where they differ from the resource's.
                if (sub.Group != type.Group || sub.Version != type.Version)
                {
                    subresource["group"] = sub.Group;
                    subresource["version"] = sub.Version;
                }
                subresource["kind"] = sub.Kind;
                subresource["verbs"] = new JsonArray(sub.Verbs.Select(v => (JsonNode)v).ToArray());
                resources.Add(subresource);
            }
        }
        return new JsonObject
        {
            ["kind"] = "APIResourceList",
            ["apiVersion"] = "v1",
            ["groupVersion"] = group.Length == 0 ? version : $"{group}/{version}",
            ["resources"] = resources,
        };
    }
}
