using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Trellis.ApiServer.Storage;

namespace Trellis.ApiServer.OpenApi;

/// <summary>
/// /openapi/v3 (a root listing one document per group-version, each with a content hash) and
/// /openapi/v2 (one Swagger 2.0 document), built from the registry: CRD schemas as their
/// openAPIV3Schema with metadata referring to ObjectMeta, built-ins from <see cref="BuiltInSchemas"/>,
/// and a path per resource whose write operations declare the dryRun, fieldManager,
/// fieldValidation and force parameters, which is how kubectl learns that the server validates
/// fields itself (so kubectl apply needs no --validate=false).
/// </summary>
public static class OpenApiDocuments
{
    private const string ApiVersionDescription = "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values.";
    private const string KindDescription = "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase.";
    private const string MetadataDescription = "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

    public static JsonObject V3Root(ResourceRegistry registry)
    {
        var paths = new JsonObject();
        foreach (var (group, version) in GroupVersions(registry))
        {
            var key = group.Length == 0 ? $"api/{version}" : $"apis/{group}/{version}";
            var document = V3GroupVersion(registry, group, version)!;
            paths[key] = new JsonObject { ["serverRelativeURL"] = $"/openapi/v3/{key}?hash={Hash(document)}" };
        }
        return new JsonObject { ["paths"] = paths };
    }

    private static IEnumerable<(string Group, string Version)> GroupVersions(ResourceRegistry registry) =>
        registry.All.Select(t => (t.Group, t.Version)).Distinct().OrderBy(gv => gv.Group, StringComparer.Ordinal).ThenBy(gv => gv.Version, StringComparer.Ordinal);

    private static string Hash(JsonObject document) =>
        Convert.ToHexString(SHA512.HashData(Encoding.UTF8.GetBytes(document.ToJsonString())));

    /// <returns>Null when nothing is served at that group-version.</returns>
    public static JsonObject? V3GroupVersion(ResourceRegistry registry, string group, string version)
    {
        var types = registry.All.Where(t => t.Group == group && t.Version == version).ToArray();
        if (types.Length == 0) return null;
        var schemas = new JsonObject
        {
            [BuiltInSchemas.ObjectMetaName] = BuiltInSchemas.ObjectMeta(),
            [BuiltInSchemas.ListMetaName] = BuiltInSchemas.ListMeta(),
        };
        var paths = new JsonObject();
        foreach (var type in types)
        {
            var name = BuiltInSchemas.DefinitionName(type, type.Kind);
            schemas[name] = KindSchema(type, "#/components/schemas/");
            if (!type.CreateOnly) schemas[BuiltInSchemas.DefinitionName(type, type.ListKind)] = ListSchema(type, name, "#/components/schemas/");
            foreach (var (path, item) in Paths(type, $"#/components/schemas/{name}", v3: true)) paths[path] = item;
        }
        return new JsonObject
        {
            ["openapi"] = "3.0.0",
            ["info"] = new JsonObject { ["title"] = "Kubernetes", ["version"] = Discovery.DiscoveryDocuments.GitVersion },
            ["paths"] = paths,
            ["components"] = new JsonObject { ["schemas"] = schemas },
        };
    }

    public static JsonObject V2(ResourceRegistry registry)
    {
        var definitions = new JsonObject
        {
            [BuiltInSchemas.ObjectMetaName] = BuiltInSchemas.ObjectMeta(),
            [BuiltInSchemas.ListMetaName] = BuiltInSchemas.ListMeta(),
        };
        var paths = new JsonObject();
        foreach (var type in registry.All)
        {
            var name = BuiltInSchemas.DefinitionName(type, type.Kind);
            definitions[name] = ToV2(KindSchema(type, "#/definitions/"));
            if (!type.CreateOnly) definitions[BuiltInSchemas.DefinitionName(type, type.ListKind)] = ListSchema(type, name, "#/definitions/");
            foreach (var (path, item) in Paths(type, $"#/definitions/{name}", v3: false)) paths[path] = item;
        }
        return new JsonObject
        {
            ["swagger"] = "2.0",
            ["info"] = new JsonObject { ["title"] = "Kubernetes", ["version"] = Discovery.DiscoveryDocuments.GitVersion },
            ["paths"] = paths,
            ["definitions"] = definitions,
        };
    }

    /// <summary>OpenAPI v2 has no nullable and no allOf-wrapped references in the places v3 has them.</summary>
    private static JsonNode? ToV2(JsonNode? node)
    {
        if (node is JsonObject obj)
        {
            var copy = new JsonObject();
            foreach (var (key, value) in obj)
            {
                if (key == "nullable") continue;
                if (key == "allOf" && value is JsonArray { Count: 1 } single && single[0]?["$ref"] is not null)
                {
                    copy["$ref"] = single[0]!["$ref"]!.DeepClone();
                    continue;
                }
                copy[key] = ToV2(value);
            }
            return copy;
        }
        return node is JsonArray array ? new JsonArray(array.Select(ToV2).ToArray()) : node?.DeepClone();
    }

    private static JsonArray Gvk(ResourceType type, string kind) =>
        new(new JsonObject { ["group"] = type.Group, ["kind"] = kind, ["version"] = type.Version });

    private static JsonObject KindSchema(ResourceType type, string refPrefix)
    {
        JsonObject schema;
        if (type.IsCustom && type.OpenApiSchema is { } crdSchema)
        {
            schema = crdSchema.DeepClone().AsObject();
            var properties = schema["properties"] as JsonObject ?? (JsonObject)(schema["properties"] = new JsonObject());
            properties["apiVersion"] = new JsonObject { ["type"] = "string", ["description"] = ApiVersionDescription };
            properties["kind"] = new JsonObject { ["type"] = "string", ["description"] = KindDescription };
            properties["metadata"] = MetadataRef(refPrefix);
        }
        else
        {
            var properties = new JsonObject
            {
                ["apiVersion"] = new JsonObject { ["type"] = "string", ["description"] = ApiVersionDescription },
                ["kind"] = new JsonObject { ["type"] = "string", ["description"] = KindDescription },
                ["metadata"] = MetadataRef(refPrefix),
            };
            foreach (var (key, value) in BuiltInSchemas.Properties(type)) properties[key] = value?.DeepClone();
            schema = new JsonObject
            {
                ["type"] = "object",
                ["description"] = $"{type.Kind} ({type.ApiVersion}).",
                ["properties"] = properties,
            };
        }
        schema["x-kubernetes-group-version-kind"] = Gvk(type, type.Kind);
        return schema;
    }

    private static JsonObject MetadataRef(string refPrefix) => new()
    {
        ["allOf"] = new JsonArray(new JsonObject { ["$ref"] = refPrefix + BuiltInSchemas.ObjectMetaName }),
        ["default"] = new JsonObject(),
        ["description"] = MetadataDescription,
    };

    private static JsonObject ListSchema(ResourceType type, string itemName, string refPrefix) => new()
    {
        ["type"] = "object",
        ["description"] = $"{type.ListKind} is a list of {type.Kind}",
        ["required"] = new JsonArray("items"),
        ["properties"] = new JsonObject
        {
            ["apiVersion"] = new JsonObject { ["type"] = "string", ["description"] = ApiVersionDescription },
            ["kind"] = new JsonObject { ["type"] = "string", ["description"] = KindDescription },
            ["items"] = new JsonObject { ["type"] = "array", ["description"] = $"List of {type.Plural}.", ["items"] = new JsonObject { ["$ref"] = refPrefix + itemName } },
            ["metadata"] = new JsonObject { ["$ref"] = refPrefix + BuiltInSchemas.ListMetaName },
        },
        ["x-kubernetes-group-version-kind"] = Gvk(type, type.ListKind),
    };

    private static JsonObject Parameter(string name, string description, bool v3) => v3
        ? new JsonObject { ["name"] = name, ["in"] = "query", ["description"] = description, ["schema"] = new JsonObject { ["type"] = "string", ["uniqueItems"] = true } }
        : new JsonObject { ["name"] = name, ["in"] = "query", ["description"] = description, ["type"] = "string", ["uniqueItems"] = true };

    private static JsonObject[] WriteParameters(bool v3, bool patch) =>
    [
        Parameter("dryRun", "When present, indicates that modifications should not be persisted. Valid values are: - All: all dry run stages will be processed", v3),
        Parameter("fieldManager", "fieldManager is a name associated with the actor or entity that is making these changes.", v3),
        Parameter("fieldValidation", "fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields. Valid values are: - Ignore - Warn - Strict", v3),
        .. patch ? [v3
            ? new JsonObject { ["name"] = "force", ["in"] = "query", ["description"] = "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people.", ["schema"] = new JsonObject { ["type"] = "boolean", ["uniqueItems"] = true } }
            : new JsonObject { ["name"] = "force", ["in"] = "query", ["description"] = "Force is going to \"force\" Apply requests.", ["type"] = "boolean", ["uniqueItems"] = true }] : Array.Empty<JsonObject>(),
    ];

    private static IEnumerable<(string Path, JsonObject Item)> Paths(ResourceType type, string schemaRef, bool v3)
    {
        var prefix = type.Group.Length == 0 ? $"/api/{type.Version}" : $"/apis/{type.Group}/{type.Version}";
        var collection = type.Namespaced ? $"{prefix}/namespaces/{{namespace}}/{type.Plural}" : $"{prefix}/{type.Plural}";
        var operationKind = Upper(type.Kind);
        JsonObject Operation(string verb, string action, JsonObject[] parameters, string? requestSchema, IEnumerable<string>? patchTypes = null)
        {
            var reference = new JsonObject { ["$ref"] = requestSchema ?? schemaRef };
            var operation = new JsonObject
            {
                ["description"] = $"{action} {type.Kind}",
                ["operationId"] = $"{verb}{(type.Namespaced ? "Namespaced" : "")}{operationKind}",
                ["parameters"] = new JsonArray(parameters.Select(p => (JsonNode)p).ToArray()),
                ["x-kubernetes-action"] = action,
                ["x-kubernetes-group-version-kind"] = Gvk(type, type.Kind)[0]!.DeepClone(),
            };
            if (v3)
            {
                operation["responses"] = new JsonObject { ["200"] = new JsonObject { ["description"] = "OK", ["content"] = new JsonObject { ["application/json"] = new JsonObject { ["schema"] = reference.DeepClone() } } } };
                if (patchTypes is not null)
                    operation["requestBody"] = new JsonObject { ["content"] = new JsonObject(patchTypes.Select(t => KeyValuePair.Create(t, (JsonNode?)new JsonObject { ["schema"] = new JsonObject { ["type"] = "object" } }))), ["required"] = true };
                else if (action is "post" or "put")
                    operation["requestBody"] = new JsonObject { ["content"] = new JsonObject { ["*/*"] = new JsonObject { ["schema"] = reference.DeepClone() } }, ["required"] = true };
            }
            else
            {
                operation["responses"] = new JsonObject { ["200"] = new JsonObject { ["description"] = "OK", ["schema"] = reference.DeepClone() } };
                if (patchTypes is not null) operation["consumes"] = new JsonArray(patchTypes.Select(t => (JsonNode)t).ToArray());
            }
            return operation;
        }
        var nameParameter = v3
            ? new JsonObject { ["name"] = "name", ["in"] = "path", ["required"] = true, ["description"] = $"name of the {type.Kind}", ["schema"] = new JsonObject { ["type"] = "string", ["uniqueItems"] = true } }
            : new JsonObject { ["name"] = "name", ["in"] = "path", ["required"] = true, ["description"] = $"name of the {type.Kind}", ["type"] = "string", ["uniqueItems"] = true };
        JsonArray Common(bool named)
        {
            var list = new JsonArray();
            if (named) list.Add(nameParameter.DeepClone());
            if (type.Namespaced)
                list.Add(v3
                    ? new JsonObject { ["name"] = "namespace", ["in"] = "path", ["required"] = true, ["description"] = "object name and auth scope, such as for teams and projects", ["schema"] = new JsonObject { ["type"] = "string", ["uniqueItems"] = true } }
                    : new JsonObject { ["name"] = "namespace", ["in"] = "path", ["required"] = true, ["description"] = "object name and auth scope, such as for teams and projects", ["type"] = "string", ["uniqueItems"] = true });
            return list;
        }
        var patchTypes = new List<string> { "application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml" };
        if (!type.IsCustom) patchTypes.Insert(2, "application/strategic-merge-patch+json");

        if (type.CreateOnly)
        {
            yield return (collection, new JsonObject { ["post"] = Operation("create", "post", WriteParameters(v3, false), null), ["parameters"] = Common(false) });
            yield break;
        }
        yield return (collection, new JsonObject
        {
            ["get"] = Operation("list", "list", [], BuiltInSchemas.DefinitionName(type, type.ListKind) is var list ? schemaRef[..(schemaRef.LastIndexOf('/') + 1)] + list : null),
            ["post"] = Operation("create", "post", WriteParameters(v3, false), null),
            ["delete"] = Operation("deletecollection", "deletecollection", [Parameter("dryRun", "When present, indicates that modifications should not be persisted.", v3)], null),
            ["parameters"] = Common(false),
        });
        yield return ($"{collection}/{{name}}", new JsonObject
        {
            ["get"] = Operation("read", "get", [], null),
            ["put"] = Operation("replace", "put", WriteParameters(v3, false), null),
            ["patch"] = Operation("patch", "patch", WriteParameters(v3, true), null, patchTypes),
            ["delete"] = Operation("delete", "delete", [Parameter("dryRun", "When present, indicates that modifications should not be persisted.", v3), Parameter("propagationPolicy", "Whether and how garbage collection will be performed: Orphan, Background or Foreground.", v3)], null),
            ["parameters"] = Common(true),
        });
        if (type.HasStatus)
            yield return ($"{collection}/{{name}}/status", new JsonObject
            {
                ["get"] = Operation("read", "get", [], null),
                ["put"] = Operation("replace", "put", WriteParameters(v3, false), null),
                ["patch"] = Operation("patch", "patch", WriteParameters(v3, true), null, patchTypes),
                ["parameters"] = Common(true),
            });
    }

    private static string Upper(string kind) => kind.Length == 0 ? kind : char.ToUpperInvariant(kind[0]) + kind[1..];

    public static byte[] Serialize(JsonObject document) => JsonSerializer.SerializeToUtf8Bytes(document, WireJson.Options);
}
