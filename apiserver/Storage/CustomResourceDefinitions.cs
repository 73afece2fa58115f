using System.Text.Json.Nodes;
using Trellis.ApiServer.Schema;

namespace Trellis.ApiServer.Storage;

/// <summary>
/// Turns a CustomResourceDefinition into the resource types it serves, and writes the status
/// a real server reports once it has accepted the names. Registration is immediate: a
/// resource can be used as soon as the CRD write returns. x-kubernetes-validations (CEL rules)
/// are compiled here, so a CRD with a rule that does not compile is refused.
/// </summary>
public static class CustomResourceDefinitions
{
    /// <exception cref="ApiError">422 naming the CRD and the field when the definition cannot be served.</exception>
    public static IReadOnlyList<ResourceType> Read(JsonObject crd)
    {
        var crdType = BuiltInResources.CustomResourceDefinitions;
        var name = crd["metadata"]?["name"]?.GetValue<string>() ?? "";
        var causes = new List<StatusCause>();
        var spec = crd["spec"] as JsonObject;
        var group = spec?["group"]?.GetValue<string>() ?? "";
        var names = spec?["names"] as JsonObject;
        var plural = names?["plural"]?.GetValue<string>() ?? "";
        var kind = names?["kind"]?.GetValue<string>() ?? "";
        var scope = spec?["scope"]?.GetValue<string>() ?? "";
        if (group.Length == 0) causes.Add(new("FieldValueRequired", "Required value", "spec.group"));
        if (plural.Length == 0) causes.Add(new("FieldValueRequired", "Required value", "spec.names.plural"));
        if (kind.Length == 0) causes.Add(new("FieldValueRequired", "Required value", "spec.names.kind"));
        if (scope is not ("Namespaced" or "Cluster")) causes.Add(new("FieldValueNotSupported", $"Unsupported value: \"{scope}\": supported values: \"Cluster\", \"Namespaced\"", "spec.scope"));
        if (plural.Length > 0 && group.Length > 0 && name != $"{plural}.{group}")
            causes.Add(new("FieldValueInvalid", $"Invalid value: \"{name}\": must be spec.names.plural+\".\"+spec.group", "metadata.name"));
        var versions = spec?["versions"] as JsonArray;
        if (versions is null || versions.Count == 0) causes.Add(new("FieldValueRequired", "Required value: must have exactly one version marked as storage version", "spec.versions"));
        else if (versions.Count(v => v?["storage"]?.GetValue<bool>() == true) != 1)
            causes.Add(new("FieldValueInvalid", "Invalid value: must have exactly one version marked as storage version", "spec.versions"));
        if (causes.Count > 0) throw ApiError.Invalid(crdType, name, causes);

        var storageVersion = versions!.First(v => v?["storage"]?.GetValue<bool>() == true)!["name"]!.GetValue<string>();
        var types = new List<ResourceType>();
        for (var i = 0; i < versions!.Count; i++)
        {
            var version = versions[i]!.AsObject();
            if (version["served"]?.GetValue<bool>() != true) continue;
            var versionName = version["name"]?.GetValue<string>() ?? "";
            StructuralSchema? schema = null;
            CelValidator? rules = null;
            if (version["schema"]?["openAPIV3Schema"] is JsonObject openApi)
            {
                try { schema = StructuralSchema.Parse(openApi, $"spec.versions[{i}].schema.openAPIV3Schema"); }
                catch (Exception e) when (e is FormatException or InvalidOperationException)
                {
                    throw ApiError.Invalid(crdType, name, [new("FieldValueInvalid", $"Invalid value: {e.Message}", $"spec.versions[{i}].schema.openAPIV3Schema")]);
                }
                rules = CelValidator.Compile(openApi, $"spec.versions[{i}].schema.openAPIV3Schema", causes);
                if (causes.Count > 0) throw ApiError.Invalid(crdType, name, causes);
            }
            types.Add(new ResourceType
            {
                Group = group,
                Version = versionName,
                Plural = plural,
                Singular = names!["singular"]?.GetValue<string>() is { Length: > 0 } singular ? singular : kind.ToLowerInvariant(),
                Kind = kind,
                ListKind = names["listKind"]?.GetValue<string>() is { Length: > 0 } listKind ? listKind : kind + "List",
                Namespaced = scope == "Namespaced",
                HasStatus = version["subresources"]?["status"] is JsonObject,
                ShortNames = Strings(names["shortNames"]),
                Categories = Strings(names["categories"]),
                PrinterColumns = version["additionalPrinterColumns"] is JsonArray columns
                    ? columns.Select(c => new PrinterColumn(
                        c!["name"]!.GetValue<string>(),
                        c["type"]?.GetValue<string>() ?? "string",
                        c["jsonPath"]!.GetValue<string>(),
                        c["format"]?.GetValue<string>() ?? "",
                        c["description"]?.GetValue<string>() ?? "",
                        c["priority"]?.GetValue<int>() ?? 0)).ToArray()
                    : [new PrinterColumn("Age", "date", ".metadata.creationTimestamp")],
                Schema = schema,
                Rules = rules,
                OpenApiSchema = version["schema"]?["openAPIV3Schema"]?.DeepClone() as JsonObject,
                SelectableFields = version["selectableFields"] is JsonArray selectable
                    ? selectable.Select(f => (f?["jsonPath"]?.GetValue<string>() ?? "").TrimStart('.')).Where(f => f.Length > 0).ToArray()
                    : [],
                IsCustom = true,
                AllowUnconditionalUpdate = false,
                StorageVersion = storageVersion,
            });
        }
        return types;
    }

    /// <summary>What an update may not change, as the real server enforces: the group and the scope.</summary>
    /// <exception cref="ApiError">422 naming the CRD and the field.</exception>
    public static void CheckUpdate(string name, string? groupBefore, string? scopeBefore, JsonObject after)
    {
        var causes = new List<StatusCause>();
        if (after["spec"]?["group"]?.GetValue<string>() != groupBefore)
            causes.Add(new("FieldValueInvalid", $"Invalid value: \"{after["spec"]?["group"]}\": field is immutable", "spec.group"));
        if (after["spec"]?["scope"]?.GetValue<string>() != scopeBefore)
            causes.Add(new("FieldValueInvalid", $"Invalid value: \"{after["spec"]?["scope"]}\": field is immutable", "spec.scope"));
        if (causes.Count > 0) throw ApiError.Invalid(BuiltInResources.CustomResourceDefinitions, name, causes);
    }

    /// <summary>The status a real server converges to: names accepted, established.</summary>
    public static JsonObject EstablishedStatus(JsonObject crd, DateTimeOffset now)
    {
        var names = crd["spec"]?["names"]?.DeepClone() ?? new JsonObject();
        var existing = crd["status"]?["conditions"] as JsonArray;
        var storedVersions = new JsonArray((crd["spec"]?["versions"] as JsonArray ?? [])
            .Where(v => v?["storage"]?.GetValue<bool>() == true)
            .Select(v => (JsonNode)JsonValue.Create(v!["name"]!.GetValue<string>())!).ToArray());
        return new JsonObject
        {
            ["conditions"] = new JsonArray(
                Condition(existing, "NamesAccepted", "NoConflicts", "no conflicts found", now),
                Condition(existing, "Established", "InitialNamesAccepted", "the initial names have been accepted", now)),
            ["acceptedNames"] = names,
            ["storedVersions"] = storedVersions,
        };
    }

    /// <summary>Keeps a condition's lastTransitionTime when it was already True, so a re-sync is a no-op.</summary>
    private static JsonObject Condition(JsonArray? existing, string type, string reason, string message, DateTimeOffset now)
    {
        var previous = existing?.FirstOrDefault(c => c?["type"]?.GetValue<string>() == type && c["status"]?.GetValue<string>() == "True");
        return new JsonObject
        {
            ["type"] = type,
            ["status"] = "True",
            ["lastTransitionTime"] = previous?["lastTransitionTime"]?.DeepClone() ?? ObjectStore.Rfc3339(now),
            ["reason"] = reason,
            ["message"] = message,
        };
    }

    private static IReadOnlyList<string> Strings(JsonNode? node) =>
        node is JsonArray array ? array.Select(s => s!.GetValue<string>()).ToArray() : [];
}
