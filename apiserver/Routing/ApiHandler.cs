using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Trellis.ApiServer.Authentication;
using Trellis.ApiServer.Authorization;
using Trellis.ApiServer.Discovery;
using Trellis.ApiServer.Patching;
using Trellis.ApiServer.Pods;
using Trellis.ApiServer.Schema;
using Trellis.ApiServer.Selectors;
using Trellis.ApiServer.Storage;
using Trellis.ApiServer.Tables;

namespace Trellis.ApiServer.Routing;

/// <summary>
/// The HTTP edge: turns a request into a store call and the result into the reply the real
/// API server would send. Everything with a decision in it lives in the pure folders.
/// </summary>
internal sealed partial class ApiHandler(
    ResourceRegistry registry,
    ObjectStore store,
    ApiServerMetrics metrics,
    Authenticator authenticator,
    Authorizer authorizer,
    ServiceAccountTokens serviceAccountTokens,
    KubeApiServerOptions options,
    TimeProvider time,
    Func<string> serverAddress,
    CancellationToken stopping,
    ILogger logger)
{
    private const string JsonContentType = "application/json";

    public async Task HandleAsync(HttpContext context)
    {
        try
        {
            var path = context.Request.Path.Value ?? "/";
            var user = Authorize(context, path);
            context.Items[typeof(UserInfo)] = user;
            if (await TryServeDiscoveryAsync(context, path)) return;
            var resourcePath = ResourcePath.Parse(path) ?? throw PathNotFound();
            var type = registry.Find(resourcePath.Group, resourcePath.Version, resourcePath.Plural) ?? throw PathNotFound();
            if (resourcePath.Namespace is not null && !type.Namespaced) throw PathNotFound();
            if (resourcePath.Subresource is not null && !ServesSubresource(type, resourcePath.Subresource)) throw PathNotFound();
            await ServeResourceAsync(context, resourcePath, type);
        }
        catch (ApiError error)
        {
            if (!context.Response.HasStarted) await WriteStatusAsync(context, error);
        }
        catch (InvalidOperationException e) when (e.Source == "System.Text.Json" && !context.Response.HasStarted)
        {
            // A field of the wrong JSON type (a number where a name belongs) surfaces as a JsonNode conversion failure.
            await WriteStatusAsync(context, ApiError.BadRequest($"the request body for {context.Request.Path} has a field of the wrong type: {e.Message}"));
        }
        catch (Exception e) when (e is OperationCanceledException or IOException && context.RequestAborted.IsCancellationRequested)
        {
            logger.LogDebug("client went away during {Method} {Path}", context.Request.Method, context.Request.Path);
        }
        catch (Exception e)
        {
            logger.LogError(e, "{Method} {Path} failed", context.Request.Method, context.Request.Path);
            if (!context.Response.HasStarted)
                await WriteStatusAsync(context, new ApiError(500, "InternalError", $"an error on the server (\"{e.Message}\") has prevented the request from succeeding"));
        }
    }

    /// <summary>Authentication (401), impersonation and authorization (403), in kube-apiserver's order.</summary>
    private UserInfo Authorize(HttpContext context, string path)
    {
        var requester = authenticator.Authenticate(context.Request.Headers.Authorization.ToString()) ?? throw Authenticator.Unauthorized();
        var user = Impersonation.Apply(requester,
            context.Request.Headers.Select(h => KeyValuePair.Create(h.Key, (IReadOnlyList<string>)h.Value.Where(v => v is not null).Select(v => v!).ToArray())),
            authorizer.Authorize);
        var attributes = RequestAttributes.FromRequest(user, context.Request.Method, path, q => context.Request.Query.TryGetValue(q, out var v) ? v.ToString() : null);
        var decision = authorizer.Authorize(attributes);
        authorizer.Record(attributes, decision);
        if (!decision.Allowed) throw attributes.Forbidden(decision.Reason);
        return user;
    }

    private static UserInfo UserOf(HttpContext context) => (UserInfo)context.Items[typeof(UserInfo)]!;

    private static ApiError PathNotFound() => new(404, "NotFound", "the server could not find the requested resource");

    private async Task<bool> TryServeDiscoveryAsync(HttpContext context, string path)
    {
        if (context.Request.Method != HttpMethods.Get) return false;
        var trimmed = path.TrimEnd('/');
        switch (trimmed)
        {
            case "/healthz" or "/livez" or "/readyz":
                context.Response.ContentType = "text/plain; charset=utf-8";
                await context.Response.WriteAsync("ok");
                return true;
            case "/version":
                await WriteJsonAsync(context, 200, DiscoveryDocuments.Version());
                return true;
            case "/api":
                await WriteJsonAsync(context, 200, DiscoveryDocuments.CoreVersions(serverAddress()));
                return true;
            case "/apis":
                await WriteJsonAsync(context, 200, DiscoveryDocuments.GroupList(registry));
                return true;
        }
        var segments = trimmed.Split('/', StringSplitOptions.RemoveEmptyEntries);
        JsonObject? document = segments switch
        {
            ["api", var version] => DiscoveryDocuments.ResourceList(registry, "", version),
            ["apis", var group] => DiscoveryDocuments.Group(registry, group),
            ["apis", var group, var version] => DiscoveryDocuments.ResourceList(registry, group, version),
            ["openapi", "v3"] => OpenApi.OpenApiDocuments.V3Root(registry),
            ["openapi", "v3", "api", var version] => OpenApi.OpenApiDocuments.V3GroupVersion(registry, "", version) ?? throw PathNotFound(),
            ["openapi", "v3", "apis", var group, var version] => OpenApi.OpenApiDocuments.V3GroupVersion(registry, group, version) ?? throw PathNotFound(),
            ["openapi", "v2"] => OpenApiV2(context),
            ["openapi", ..] => throw PathNotFound(),
            _ => null,
        };
        if (document is null)
        {
            if (segments is ["api", _] or ["apis", _] or ["apis", _, _]) throw PathNotFound();
            return false;
        }
        await WriteJsonAsync(context, 200, document);
        return true;
    }

    /// <summary>
    /// Swagger 2.0 in JSON. client-go asks for it only in protobuf (gnostic's encoding), which this
    /// server does not write: that request is answered 406, as a server without the format would.
    /// </summary>
    private JsonObject OpenApiV2(HttpContext context)
    {
        var accept = context.Request.Headers.Accept.ToString();
        if (accept.Length > 0 && !accept.Contains("json", StringComparison.OrdinalIgnoreCase) && !accept.Contains("*/*", StringComparison.Ordinal))
            throw new ApiError(406, "NotAcceptable", $"only the following media types are accepted: application/json (asked for {accept})");
        return OpenApi.OpenApiDocuments.V2(registry);
    }

    private Task ServeResourceAsync(HttpContext context, ResourcePath path, ResourceType type)
    {
        var method = context.Request.Method;
        var query = context.Request.Query;
        if (!HttpMethods.IsGet(method)) DryRunOf(context);
        if (type.CreateOnly)
        {
            if (HttpMethods.IsPost(method) && path.Name is null && !path.WatchPrefix) return ReviewAsync(context, path, type);
            throw new ApiError(405, "MethodNotAllowed", $"the server does not allow this method on the requested resource ({method} {type.Key})");
        }
        if (path.Subresource == "token")
        {
            if (HttpMethods.IsPost(method)) return TokenRequestAsync(context, path, type);
            throw new ApiError(405, "MethodNotAllowed", $"the server does not allow this method on the requested resource ({method} {type.Key}/token)");
        }
        if (HttpMethods.IsGet(method))
        {
            if (path.WatchPrefix || (path.Subresource is null && IsTrue(query["watch"])))
                return WatchAsync(context, path, type);
            return path.Name is null ? ListAsync(context, path, type) : GetAsync(context, path, type);
        }
        if (HttpMethods.IsPost(method) && path.Name is null && !path.WatchPrefix) return CreateAsync(context, path, type);
        if (HttpMethods.IsPost(method) && path.Subresource == "binding") return BindAsync(context, path, type);
        if (path.Name is not null && !path.WatchPrefix)
        {
            if (HttpMethods.IsPut(method)) return UpdateAsync(context, path, type);
            if (HttpMethods.IsPatch(method)) return PatchAsync(context, path, type);
            if (HttpMethods.IsDelete(method) && path.Subresource is null) return DeleteAsync(context, path, type);
        }
        if (HttpMethods.IsDelete(method) && path.Name is null && !path.WatchPrefix) return DeleteCollectionAsync(context, path, type);
        throw new ApiError(405, "MethodNotAllowed", $"the server does not allow this method on the requested resource ({method} {type.Key})");
    }

    private static bool IsTrue(string? value) => value is "true" or "1" or "True";

    private async Task ReviewAsync(HttpContext context, ResourcePath path, ResourceType type)
    {
        metrics.Count("create", type.Plural);
        var review = await ReadObjectAsync(context, type);
        await WriteJsonAsync(context, 201, AccessReviews.Answer(type, review, UserOf(context), path.Namespace, authorizer));
    }

    private async Task TokenRequestAsync(HttpContext context, ResourcePath path, ResourceType type)
    {
        metrics.Count("create", "serviceaccounts/token");
        var body = await ReadJsonAsync(context);
        var account = store.Get(type, path.Namespace, path.Name!);
        await WriteJsonAsync(context, 201, TokenRequests.Issue(body as JsonObject, account, serviceAccountTokens, time.GetUtcNow()));
    }

    private async Task GetAsync(HttpContext context, ResourcePath path, ResourceType type)
    {
        metrics.Count("get", type.Plural);
        var stored = store.Get(type, path.Namespace, path.Name!);
        if (WantsTable(context))
        {
            await WriteJsonAsync(context, 200, TableBuilder.Build(type, [ForVersion(stored, type).Root], stored.Revision.ToString(CultureInfo.InvariantCulture), null, IncludeObjectOf(context), time.GetUtcNow()));
            return;
        }
        await WriteBytesAsync(context, 200, ForVersion(stored, type).Json);
    }

    private async Task ListAsync(HttpContext context, ResourcePath path, ResourceType type)
    {
        metrics.Count("list", type.Plural);
        var filter = FilterOf(context, type);
        var limit = 0;
        if (context.Request.Query["limit"].ToString() is { Length: > 0 } limitText
            && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit)))
            throw ApiError.BadRequest($"limit \"{limitText}\" is not a non-negative integer");
        var continueToken = context.Request.Query["continue"].ToString();
        var result = store.List(type, path.Namespace, filter.IsEverything ? null : o => filter.Matches(o.Root), limit,
            continueToken.Length > 0 ? continueToken : null);
        var revision = result.Revision.ToString(CultureInfo.InvariantCulture);
        if (WantsTable(context))
        {
            await WriteJsonAsync(context, 200, TableBuilder.Build(type, result.Items.Select(i => ForVersion(i, type).Root), revision, result.Continue, IncludeObjectOf(context), time.GetUtcNow()));
            return;
        }
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(64 + result.Items.Sum(i => i.Json.Length + 1));
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true, Encoder = WireJson.Options.Encoder }))
        {
            writer.WriteStartObject();
            writer.WriteString("kind", type.ListKind);
            writer.WriteString("apiVersion", type.ApiVersion);
            writer.WriteStartObject("metadata");
            writer.WriteString("resourceVersion", revision);
            if (result.Continue is not null) writer.WriteString("continue", result.Continue);
            writer.WriteEndObject();
            writer.WriteStartArray("items");
            foreach (var item in result.Items) writer.WriteRawValue(ForVersion(item, type).Json, skipInputValidation: true);
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        await WriteBytesAsync(context, 200, buffer.WrittenMemory);
    }

    private async Task CreateAsync(HttpContext context, ResourcePath path, ResourceType type)
    {
        metrics.Count("create", type.Plural);
        if (type.Namespaced && path.Namespace is null) throw PathNotFound();
        var obj = await ReadObjectAsync(context, type);
        var metadata = (JsonObject)obj["metadata"]!;
        var bodyNamespace = metadata["namespace"]?.GetValue<string>();
        if (type.Namespaced && !string.IsNullOrEmpty(bodyNamespace) && bodyNamespace != path.Namespace)
            throw ApiError.BadRequest($"the namespace of the provided object ({bodyNamespace}) does not match the namespace sent on the request ({path.Namespace})");
        if (IsCrd(type)) CustomResourceDefinitions.Read(obj);
        AdmitPod(type, path, null, obj);
        if (RbacWrites.Concerns(type))
        {
            if (type.Namespaced) metadata["namespace"] = path.Namespace;
            RbacWrites.Admit(type, obj, null, UserOf(context), authorizer);
        }
        var warnings = new List<string>();
        FieldValidation.Check(type, obj, DuplicatesOf(context), FieldValidationOf(context), warnings);
        var dryRun = DryRunOf(context);
        var stored = store.Create(type, path.Namespace, obj, warnings, TrackUpdates(context, type, ""), dryRun);
        AddWarnings(context, warnings);
        metrics.CountWrite();
        if (IsCrd(type) && !dryRun) stored = SyncCrd(stored.Name) ?? stored;
        await WriteBytesAsync(context, 201, ForVersion(stored, type).Json);
    }

    private async Task UpdateAsync(HttpContext context, ResourcePath path, ResourceType type)
    {
        metrics.Count("update", type.Plural);
        var obj = await ReadObjectAsync(context, type);
        var metadata = (JsonObject)obj["metadata"]!;
        var bodyName = metadata["name"]?.GetValue<string>() ?? "";
        if (bodyName != path.Name)
            throw ApiError.BadRequest($"the name of the object ({bodyName}) does not match the name on the URL ({path.Name})");
        var bodyNamespace = metadata["namespace"]?.GetValue<string>();
        if (type.Namespaced && !string.IsNullOrEmpty(bodyNamespace) && bodyNamespace != path.Namespace)
            throw ApiError.BadRequest($"the namespace of the provided object ({bodyNamespace}) does not match the namespace sent on the request ({path.Namespace})");
        if (IsCrd(type) && path.Subresource is null) CustomResourceDefinitions.Read(obj);
        var user = UserOf(context);
        var warnings = new List<string>();
        FieldValidation.Check(type, obj, DuplicatesOf(context), FieldValidationOf(context), warnings);
        var stored = store.Update(type, path.Namespace, path.Name!, current =>
        {
            if (RbacWrites.Concerns(type))
            {
                if (type.Namespaced) metadata["namespace"] = path.Namespace;
                RbacWrites.Admit(type, obj, current, user, authorizer);
            }
            if (IsCrd(type) && path.Subresource is null)
                CustomResourceDefinitions.CheckUpdate(path.Name!, current["spec"]?["group"]?.GetValue<string>(), current["spec"]?["scope"]?.GetValue<string>(), obj);
            AdmitPod(type, path, current, obj);
            return obj;
        }, ScopeOf(path), requireResourceVersion: !type.AllowUnconditionalUpdate, warnings: warnings,
            managedFields: TrackUpdates(context, type, path.Subresource ?? ""), dryRun: DryRunOf(context));
        AddWarnings(context, warnings);
        metrics.CountWrite();
        if (IsCrd(type) && !DryRunOf(context)) stored = SyncCrd(path.Name!) ?? stored;
        await WriteBytesAsync(context, 200, ForVersion(stored, type).Json);
    }

    private async Task PatchAsync(HttpContext context, ResourcePath path, ResourceType type)
    {
        metrics.Count("patch", type.Plural);
        var mediaType = (context.Request.ContentType ?? "").Split(';')[0].Trim().ToLowerInvariant();
        if (mediaType == "application/apply-patch+yaml")
        {
            await ApplyAsync(context, path, type);
            return;
        }
        if (context.Request.Query["force"].ToString().Length > 0)
            throw ApiError.Invalid(PatchOptions, "", [new("FieldValueForbidden", "Forbidden: may not be specified for non-apply patch", "force")]);
        Func<JsonNode?, JsonNode?, JsonNode?> apply = mediaType switch
        {
            "application/merge-patch+json" => MergePatch.Apply,
            "application/json-patch+json" => JsonPatch.Apply,
            "application/strategic-merge-patch+json" when !type.IsCustom => StrategicMergePatch.Apply,
            _ => throw new ApiError(415, "UnsupportedMediaType",
                $"the body of the request was in an unknown format ({mediaType}) - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml{(type.IsCustom ? "" : ", application/strategic-merge-patch+json")}"),
        };
        var patch = await ReadJsonAsync(context);
        var user = UserOf(context);
        var warnings = new List<string>();
        var validation = FieldValidationOf(context);
        var patchWarnings = new List<string>();
        var stored = store.Update(type, path.Namespace, path.Name!, current =>
        {
            var groupBefore = current["spec"]?["group"]?.GetValue<string>();
            var scopeBefore = current["spec"]?["scope"]?.GetValue<string>();
            var before = (JsonObject)current.DeepClone();
            JsonNode? patched;
            try { patched = apply(current, patch); }
            catch (PatchException e) { throw e.Malformed ? ApiError.BadRequest(e.Message) : new ApiError(422, "Invalid", e.Message) { Name = path.Name, Group = type.Group, Kind = type.Kind }; }
            catch (InvalidOperationException e) { throw ApiError.BadRequest($"the patch for {type.Key} \"{path.Name}\" could not be applied: {e.Message}"); }
            if (patched is not JsonObject result) throw ApiError.BadRequest($"the patch for {type.Key} \"{path.Name}\" does not leave an object");
            CheckKindAndVersion(result, type);
            if (result["metadata"]?["name"]?.GetValue<string>() != path.Name)
                throw ApiError.BadRequest($"the patch for {type.Key} \"{path.Name}\" may not change metadata.name");
            if (IsCrd(type) && path.Subresource is null)
            {
                CustomResourceDefinitions.Read(result);
                CustomResourceDefinitions.CheckUpdate(path.Name!, groupBefore, scopeBefore, result);
            }
            AdmitPod(type, path, before, result);
            if (RbacWrites.Concerns(type)) RbacWrites.Admit(type, result, before, user, authorizer);
            FieldValidation.Check(type, result, DuplicatesOf(context), validation, patchWarnings);
            return result;
        }, ScopeOf(path), warnings: warnings, managedFields: TrackUpdates(context, type, path.Subresource ?? ""), dryRun: DryRunOf(context));
        AddWarnings(context, patchWarnings.Concat(warnings));
        metrics.CountWrite();
        if (IsCrd(type) && !DryRunOf(context)) stored = SyncCrd(path.Name!) ?? stored;
        await WriteBytesAsync(context, 200, ForVersion(stored, type).Json);
    }

    private static readonly ResourceType DeleteOptionsType = new()
    {
        Group = "meta.k8s.io", Version = "v1", Plural = "deleteoptions", Singular = "deleteoptions", Kind = "DeleteOptions", Namespaced = false,
    };

    private async Task DeleteAsync(HttpContext context, ResourcePath path, ResourceType type)
    {
        metrics.Count("delete", type.Plural);
        var body = await ReadBodyAsync(context);
        JsonNode? options = null;
        if (body.Length > 0)
        {
            try { options = JsonNode.Parse(body); }
            catch (JsonException e) { throw ApiError.BadRequest($"DeleteOptions for {type.Key} \"{path.Name}\" are not valid JSON: {e.Message}"); }
        }
        var propagation = (options?["propagationPolicy"]?.GetValue<string>() ?? context.Request.Query["propagationPolicy"].ToString()) switch
        {
            "Orphan" => PropagationPolicy.Orphan,
            "Foreground" => PropagationPolicy.Foreground,
            "Background" or null or "" => options?["orphanDependents"]?.GetValue<bool>() == true ? PropagationPolicy.Orphan : PropagationPolicy.Background,
            var other => throw ApiError.Invalid(DeleteOptionsType, "", [new("FieldValueNotSupported", $"Unsupported value: \"{other}\": supported values: \"Foreground\", \"Background\", \"Orphan\"", "propagationPolicy")]),
        };
        var expectedUid = options?["preconditions"]?["uid"]?.GetValue<string>();
        var expectedVersion = options?["preconditions"]?["resourceVersion"]?.GetValue<string>();
        if (DryRunOf(context) || options?["dryRun"] is JsonArray { Count: > 0 })
        {
            // A dry-run delete checks that the object is there and answers with it, changing nothing.
            await WriteBytesAsync(context, 200, ForVersion(store.Get(type, path.Namespace, path.Name!), type).Json);
            return;
        }
        var result = IsPods(type)
            ? store.DeleteGracefully(type, path.Namespace, path.Name!, GracePeriodOf(context, options), PodStrategy.GracePeriod, expectedUid, expectedVersion, propagation)
            : store.Delete(type, path.Namespace, path.Name!, expectedUid, expectedVersion, propagation);
        metrics.CountWrite();
        if (IsCrd(type)) SyncCrd(path.Name!);
        if (result.Pending || type.IsCustom || IsPods(type))
        {
            await WriteBytesAsync(context, 200, ForVersion(result.Object, type).Json);
            return;
        }
        var details = new JsonObject { ["name"] = path.Name, ["kind"] = type.Plural, ["uid"] = result.Object.Uid };
        if (type.Group.Length > 0) details["group"] = type.Group;
        await WriteJsonAsync(context, 200, new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Success",
            ["details"] = details,
        });
    }

    /// <summary>DELETE on a collection: every object the selectors match, answered with the list of what was deleted.</summary>
    private async Task DeleteCollectionAsync(HttpContext context, ResourcePath path, ResourceType type)
    {
        metrics.Count("deletecollection", type.Plural);
        var filter = FilterOf(context, type);
        var matching = store.List(type, path.Namespace, filter.IsEverything ? null : o => filter.Matches(o.Root)).Items;
        var deleted = new JsonArray();
        var dryRun = DryRunOf(context);
        foreach (var item in matching)
        {
            if (dryRun) { deleted.Add(JsonNode.Parse(ForVersion(item, type).Json)); continue; }
            try
            {
                var result = IsPods(type)
                    ? store.DeleteGracefully(type, item.Namespace, item.Name, GracePeriodOf(context, null), PodStrategy.GracePeriod)
                    : store.Delete(type, item.Namespace, item.Name);
                deleted.Add(JsonNode.Parse(ForVersion(result.Object, type).Json));
                metrics.CountWrite();
                if (IsCrd(type)) SyncCrd(item.Name);
            }
            catch (ApiError e) when (e.Code == 404) { }
        }
        await WriteJsonAsync(context, 200, new JsonObject
        {
            ["kind"] = type.ListKind,
            ["apiVersion"] = type.ApiVersion,
            ["metadata"] = new JsonObject { ["resourceVersion"] = store.CurrentRevision.ToString(CultureInfo.InvariantCulture) },
            ["items"] = deleted,
        });
    }

    private async Task WatchAsync(HttpContext context, ResourcePath path, ResourceType type)
    {
        metrics.Count("watch", type.Plural);
        var filter = FilterOf(context, type);
        if (path.Name is not null)
            filter = filter with { Fields = FieldSelector.Parse(string.Join(",", new[] { $"metadata.name={path.Name}", context.Request.Query["fieldSelector"].ToString() }.Where(s => s.Length > 0))) };
        TimeSpan? timeout = null;
        if (context.Request.Query["timeoutSeconds"].ToString() is { Length: > 0 } timeoutText)
        {
            if (!int.TryParse(timeoutText, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
                throw ApiError.BadRequest($"timeoutSeconds \"{timeoutText}\" is not a non-negative integer");
            timeout = TimeSpan.FromSeconds(seconds);
        }
        var request = new WatchRequest(type, path.Namespace, filter, context.Request.Query["resourceVersion"].ToString(),
            IsTrue(context.Request.Query["allowWatchBookmarks"]), timeout, WantsTable(context), IncludeObjectOf(context));
        await new WatchStream(store, options.BookmarkInterval, time, logger).RunAsync(context, request, stopping);
    }

    /// <summary>After any CRD write: serve what it defines, or stop serving what it defined and drop its objects.</summary>
    private StoredObject? SyncCrd(string name)
    {
        var crdType = BuiltInResources.CustomResourceDefinitions;
        StoredObject crd;
        try { crd = store.Get(crdType, null, name); }
        catch (ApiError e) when (e.Code == 404)
        {
            var gone = registry.All.FirstOrDefault(t => t.IsCustom && $"{t.Plural}.{t.Group}" == name);
            registry.Unregister(name);
            if (gone is not null) store.DeleteAll(gone.Key);
            return null;
        }
        var node = crd.ToNode();
        var types = CustomResourceDefinitions.Read(node);
        var previous = registry.All.FirstOrDefault(t => t.IsCustom && $"{t.Plural}.{t.Group}" == name);
        registry.Register(name, types);
        if (previous is not null && types.Count > 0 && previous.Key != types[0].Key) store.DeleteAll(previous.Key);
        var status = CustomResourceDefinitions.EstablishedStatus(node, time.GetUtcNow());
        return store.Update(crdType, null, name, current =>
        {
            current["status"] = status;
            return current;
        }, UpdateScope.Status);
    }

    private static bool IsCrd(ResourceType type) => type == BuiltInResources.CustomResourceDefinitions;

    private static UpdateScope ScopeOf(ResourcePath path) => path.Subresource == "status" ? UpdateScope.Status : UpdateScope.Main;

    /// <exception cref="ApiError">400 for a malformed selector, or a field the kind does not offer for selection (as the real server's field label conversion refuses it).</exception>
    private static ObjectFilter FilterOf(HttpContext context, ResourceType type)
    {
        ObjectFilter filter;
        try
        {
            filter = new ObjectFilter(LabelSelector.Parse(context.Request.Query["labelSelector"]), FieldSelector.Parse(context.Request.Query["fieldSelector"]));
        }
        catch (FormatException e) { throw ApiError.BadRequest(e.Message); }
        foreach (var requirement in filter.Fields.Requirements)
            if (!type.SelectableFields.Contains(requirement.Path))
                throw ApiError.BadRequest($"field label not supported: {requirement.Path}");
        return filter;
    }

    internal static bool WantsTable(HttpContext context) =>
        context.Request.Headers.Accept.ToString().Contains("as=Table", StringComparison.Ordinal);

    internal static IncludeObject IncludeObjectOf(HttpContext context) => context.Request.Query["includeObject"].ToString() switch
    {
        "None" => IncludeObject.None,
        "Object" => IncludeObject.Object,
        _ => IncludeObject.Metadata,
    };

    /// <summary>Objects are stored in one version; a read through another served version only changes apiVersion.</summary>
    internal static StoredObject ForVersion(StoredObject stored, ResourceType type)
    {
        if (stored.Root.TryGetProperty("apiVersion", out var apiVersion) && apiVersion.ValueEquals(type.ApiVersion)) return stored;
        var node = stored.ToNode();
        node["apiVersion"] = type.ApiVersion;
        return new StoredObject(stored.Namespace, stored.Name, stored.Uid, stored.Revision, JsonSerializer.SerializeToUtf8Bytes(node, WireJson.Options));
    }

    private static async Task<byte[]> ReadBodyAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        return buffer.ToArray();
    }

    private static async Task<JsonNode?> ReadJsonAsync(HttpContext context)
    {
        var mediaType = (context.Request.ContentType ?? "").Split(';')[0].Trim().ToLowerInvariant();
        if (mediaType == Transport.ProtobufBodies.MediaType) return Transport.ProtobufBodies.Decode(await ReadBodyAsync(context));
        // CBOR bodies (and protobuf of kinds not decoded) are answered 415, which makes client-go fall back to JSON.
        if (mediaType.Length > 0 && mediaType != "application/json" && !mediaType.EndsWith("+json", StringComparison.Ordinal))
            throw new ApiError(415, "UnsupportedMediaType", $"the body of the request was in an unknown format ({mediaType}) - accepted media types include: application/json{(mediaType.Contains("yaml") ? "; server-side apply is not supported" : "")}");
        var body = await ReadBodyAsync(context);
        try
        {
            var duplicates = FieldValidation.DuplicateFields(body);
            context.Items[DuplicatesKey] = duplicates;
            if (duplicates.Count == 0) return JsonNode.Parse(body);
            using var document = JsonDocument.Parse(body);
            return LastWins(document.RootElement);
        }
        catch (JsonException e) { throw ApiError.BadRequest($"the request body is not valid JSON: {e.Message}"); }
    }

    private const string DuplicatesKey = "trellis.duplicate-fields";

    private static IReadOnlyList<string> DuplicatesOf(HttpContext context) =>
        context.Items.TryGetValue(DuplicatesKey, out var duplicates) ? (IReadOnlyList<string>)duplicates! : [];

    /// <summary>A JSON value whose repeated properties keep their last value, as Go's decoder does.</summary>
    private static JsonNode? LastWins(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => new JsonObject(element.EnumerateObject().GroupBy(p => p.Name).Select(g => KeyValuePair.Create(g.Key, LastWins(g.Last().Value)))),
        JsonValueKind.Array => new JsonArray(element.EnumerateArray().Select(LastWins).ToArray()),
        _ => JsonNode.Parse(element.GetRawText()),
    };

    private static FieldValidationMode FieldValidationOf(HttpContext context) => FieldValidation.Parse(context.Request.Query["fieldValidation"].ToString());

    private static async Task<JsonObject> ReadObjectAsync(HttpContext context, ResourceType type)
    {
        if (await ReadJsonAsync(context) is not JsonObject obj) throw ApiError.BadRequest($"the request body for {type.Key} is not a JSON object");
        CheckKindAndVersion(obj, type);
        if (obj["metadata"] is null) obj["metadata"] = new JsonObject();
        if (obj["metadata"] is not JsonObject) throw ApiError.BadRequest($"metadata of the {type.Kind} in the request body is not an object");
        return obj;
    }

    /// <summary>Fills a missing kind/apiVersion from the URL, as the real decoder's defaults do; refuses a different one.</summary>
    private static void CheckKindAndVersion(JsonObject obj, ResourceType type)
    {
        var kind = obj["kind"]?.GetValue<string>();
        var apiVersion = obj["apiVersion"]?.GetValue<string>();
        if (!string.IsNullOrEmpty(kind) && kind != type.Kind)
            throw ApiError.BadRequest($"the kind in the body ({kind}) does not match the kind of {type.Key} ({type.Kind})");
        if (!string.IsNullOrEmpty(apiVersion) && apiVersion != type.ApiVersion)
            throw ApiError.BadRequest($"the API version in the data ({apiVersion}) does not match the expected API version ({type.ApiVersion})");
        obj["kind"] = type.Kind;
        obj["apiVersion"] = type.ApiVersion;
    }

    /// <summary>Admission warnings as the real server sends them: one Warning header each, "299 - \"text\"".</summary>
    internal static void AddWarnings(HttpContext context, IEnumerable<string> warnings)
    {
        foreach (var warning in warnings.Distinct())
            context.Response.Headers.Append("Warning", $"299 - \"{warning.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace('\n', ' ')}\"");
    }

    internal static Task WriteStatusAsync(HttpContext context, ApiError error) => WriteJsonAsync(context, error.Code, error.ToStatus());

    internal static Task WriteJsonAsync(HttpContext context, int status, JsonNode document) =>
        WriteBytesAsync(context, status, JsonSerializer.SerializeToUtf8Bytes(document, WireJson.Options));

    internal static async Task WriteBytesAsync(HttpContext context, int status, ReadOnlyMemory<byte> body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = JsonContentType;
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, context.RequestAborted);
    }
}
