using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Trellis.ApiServer.FieldManagement;
using Trellis.ApiServer.Schema;
using Trellis.ApiServer.Storage;
using Trellis.Crds.Yaml;

namespace Trellis.ApiServer.Routing;

/// <summary>Server-side apply, field managers and dry runs at the HTTP edge.</summary>
internal sealed partial class ApiHandler
{
    private static readonly ResourceType PatchOptions = new()
    {
        Group = "meta.k8s.io", Version = "v1", Plural = "patchoptions", Singular = "patchoptions", Kind = "PatchOptions", Namespaced = false,
    };

    /// <summary>?dryRun=All: admit and answer, change nothing.</summary>
    /// <exception cref="ApiError">400 for any other value, as the real server refuses it.</exception>
    private static bool DryRunOf(HttpContext context)
    {
        var values = context.Request.Query["dryRun"];
        if (values.Count == 0) return false;
        foreach (var value in values)
            if (value != "All")
                throw ApiError.BadRequest($"dryRun: Unsupported value: \"{value}\": supported values: \"All\"");
        return true;
    }

    /// <summary>?fieldManager=, else the User-Agent up to its first "/" (as kube-apiserver names an unnamed manager).</summary>
    private static string ManagerOf(HttpContext context)
    {
        var manager = context.Request.Query["fieldManager"].ToString();
        if (manager.Length == 0)
        {
            var agent = context.Request.Headers.UserAgent.ToString();
            manager = agent.Split('/')[0];
        }
        if (manager.Length > 128)
            throw ApiError.Invalid(PatchOptions, "", [new("FieldValueTooLong", "Too long: may not be more than 128 bytes", "fieldManager")]);
        if (manager.Any(char.IsControl))
            throw ApiError.Invalid(PatchOptions, "", [new("FieldValueInvalid", $"Invalid value: \"{manager}\": must only contain printable characters", "fieldManager")]);
        return manager;
    }

    private string Now() => ObjectStore.Rfc3339(time.GetUtcNow());

    /// <summary>Ownership for a create, update or patch: the manager's Update entry.</summary>
    private ManagedFieldsUpdate TrackUpdates(HttpContext context, ResourceType type, string subresource)
    {
        var manager = ManagerOf(context);
        var shape = FieldManager.RootShape(type, subresource);
        var now = Now();
        return (before, after) => FieldManager.TrackUpdate(before, after, shape, manager, type.ApiVersion, subresource, now);
    }

    /// <summary>
    /// PATCH with application/apply-patch+yaml: merge the applied configuration by field ownership,
    /// creating the object when it does not exist; conflicts are 409 unless ?force=true.
    /// </summary>
    private async Task ApplyAsync(HttpContext context, ResourcePath path, ResourceType type)
    {
        var manager = context.Request.Query["fieldManager"].ToString();
        if (manager.Length == 0)
            throw ApiError.Invalid(PatchOptions, "", [new("FieldValueRequired", "Required value: is required for apply patch", "fieldManager")]);
        ManagerOf(context);
        var force = IsTrue(context.Request.Query["force"]);
        var config = await ReadApplyConfigurationAsync(context, type, path);
        var subresource = path.Subresource ?? "";
        var shape = FieldManager.RootShape(type, subresource);
        var now = Now();
        var user = UserOf(context);
        var warnings = new List<string>();
        FieldValidation.Check(type, config, DuplicatesOf(context), FieldValidationOf(context) is FieldValidationMode.Warn && context.Request.Query["fieldValidation"].Count == 0
            ? FieldValidationMode.Strict : FieldValidationOf(context), warnings);
        var dryRun = DryRunOf(context);
        JsonArray owners = [];
        ManagedFieldsUpdate retain = (_, after) => FieldManager.Retain(owners, after, shape);
        StoredObject stored;
        var status = 200;
        try
        {
            stored = store.Update(type, path.Namespace, path.Name!, current =>
            {
                var before = (JsonObject)current.DeepClone();
                var result = FieldManager.Apply(current, config, shape, manager, type.ApiVersion, subresource, force, now);
                owners = (JsonArray)result["metadata"]!["managedFields"]!.DeepClone();
                if (IsCrd(type) && path.Subresource is null)
                {
                    CustomResourceDefinitions.Read(result);
                    CustomResourceDefinitions.CheckUpdate(path.Name!, before["spec"]?["group"]?.GetValue<string>(), before["spec"]?["scope"]?.GetValue<string>(), result);
                }
                AdmitPod(type, path, before, result);
                if (Authorization.RbacWrites.Concerns(type)) Authorization.RbacWrites.Admit(type, result, before, user, authorizer);
                return result;
            }, ScopeOf(path), warnings: warnings, managedFields: retain, dryRun: dryRun);
        }
        catch (ApiError e) when (e.Code == 404 && path.Subresource is null && e.Name == path.Name)
        {
            // Apply creates what does not exist (not through a subresource, as the real server refuses).
            var created = FieldManager.Apply(null, config, shape, manager, type.ApiVersion, subresource, force, now);
            owners = (JsonArray)created["metadata"]!["managedFields"]!.DeepClone();
            if (IsCrd(type)) CustomResourceDefinitions.Read(created);
            AdmitPod(type, path, null, created);
            if (Authorization.RbacWrites.Concerns(type))
            {
                if (type.Namespaced) created["metadata"]!["namespace"] = path.Namespace;
                Authorization.RbacWrites.Admit(type, created, null, user, authorizer);
            }
            stored = store.Create(type, path.Namespace, created, warnings, retain, dryRun);
            status = 201;
        }
        AddWarnings(context, warnings);
        metrics.CountWrite();
        if (IsCrd(type) && !dryRun) stored = SyncCrd(path.Name!) ?? stored;
        await WriteBytesAsync(context, status, ForVersion(stored, type).Json);
    }

    /// <summary>The applied configuration: YAML or JSON, of this kind and name, without managedFields.</summary>
    private static async Task<JsonObject> ReadApplyConfigurationAsync(HttpContext context, ResourceType type, ResourcePath path)
    {
        var body = await ReadBodyAsync(context);
        var text = System.Text.Encoding.UTF8.GetString(body);
        JsonObject config;
        try
        {
            var trimmed = text.TrimStart();
            if (trimmed.StartsWith('{'))
            {
                var duplicates = FieldValidation.DuplicateFields(body);
                context.Items[DuplicatesKey] = duplicates;
                config = JsonNode.Parse(body) as JsonObject ?? throw new InvalidDataException("not an object");
            }
            else config = YamlDocuments.ParseSingle(text, $"the apply configuration for {type.Key} \"{path.Name}\"");
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidDataException)
        {
            throw ApiError.BadRequest($"error decoding YAML: {e.Message}");
        }
        var kind = config["kind"]?.GetValue<string>() ?? "";
        var apiVersion = config["apiVersion"]?.GetValue<string>() ?? "";
        if (kind.Length == 0 || apiVersion.Length == 0)
            throw ApiError.BadRequest($"{(kind.Length == 0 ? "kind" : "apiVersion")} must be set in an apply configuration");
        CheckKindAndVersion(config, type);
        if (config["metadata"] is not JsonObject metadata) throw ApiError.BadRequest("metadata must be set in an apply configuration");
        if (metadata["name"]?.GetValue<string>() is var name && name != path.Name)
            throw ApiError.BadRequest($"the name of the object ({name}) does not match the name on the URL ({path.Name})");
        if (type.Namespaced && metadata["namespace"]?.GetValue<string>() is { Length: > 0 } ns && ns != path.Namespace)
            throw ApiError.BadRequest($"the namespace of the provided object ({ns}) does not match the namespace sent on the request ({path.Namespace})");
        if (metadata.ContainsKey("managedFields")) throw ApiError.BadRequest("metadata.managedFields must be nil");
        return config;
    }
}
