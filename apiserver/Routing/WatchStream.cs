using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Trellis.ApiServer.Selectors;
using Trellis.ApiServer.Storage;
using Trellis.ApiServer.Tables;

namespace Trellis.ApiServer.Routing;

/// <param name="FromRevision">"" or "0" for synthetic ADDED events of every current object first.</param>
internal sealed record WatchRequest(ResourceType Type, string? Namespace, ObjectFilter Filter, string FromRevision,
    bool Bookmarks, TimeSpan? Timeout, bool Table, IncludeObject Include);

/// <summary>
/// One watch response: newline-delimited JSON events, flushed as they happen, ending when the
/// client leaves, the timeout passes, the server stops, or the store closes the watcher.
/// </summary>
internal sealed class WatchStream(ObjectStore store, TimeSpan bookmarkInterval, TimeProvider time, ILogger logger)
{
    private static readonly byte[] Newline = "\n"u8.ToArray();
    private bool _columnsSent;

    public async Task RunAsync(HttpContext context, WatchRequest request, CancellationToken stopping)
    {
        Watcher watcher;
        try
        {
            watcher = store.Watch(request.Type, request.Namespace, request.FromRevision);
        }
        catch (ApiError error) when (error.Code == 410)
        {
            // The real server answers an expired resourceVersion inside a 200 watch stream, not with an HTTP error.
            await StartAsync(context);
            await WriteNodeAsync(context, new JsonObject { ["type"] = "ERROR", ["object"] = error.ToStatus() });
            await context.Response.Body.FlushAsync(context.RequestAborted);
            return;
        }
        using var _ = watcher;
        using var lifetime = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        if (request.Timeout is { } timeout) lifetime.CancelAfter(timeout);
        var token = lifetime.Token;
        Func<JsonElement, bool>? matches = request.Filter.IsEverything ? null : request.Filter.Matches;
        long lastSent = long.TryParse(request.FromRevision, NumberStyles.None, CultureInfo.InvariantCulture, out var from) ? from : 0;

        try
        {
            await StartAsync(context);
            foreach (var e in watcher.Initial)
            {
                await WriteEventAsync(context, request, e, matches);
                lastSent = Math.Max(lastSent, e.Object.Revision);
            }
            await context.Response.Body.FlushAsync(token);

            var reader = watcher.Events;
            Task<bool>? pending = null;
            Task? bookmark = request.Bookmarks ? Task.Delay(bookmarkInterval, time, token) : null;
            while (!token.IsCancellationRequested)
            {
                pending ??= reader.WaitToReadAsync(token).AsTask();
                if (bookmark is not null && await Task.WhenAny(pending, bookmark) == bookmark)
                {
                    if (token.IsCancellationRequested) break;
                    // Only a drained queue proves every event up to the store's revision was sent.
                    var revision = store.CurrentRevision;
                    if (reader.Count == 0) lastSent = Math.Max(lastSent, revision);
                    await WriteBookmarkAsync(context, request.Type, lastSent, token);
                    bookmark = Task.Delay(bookmarkInterval, time, token);
                    continue;
                }
                bool open;
                try { open = await pending; }
                catch (OperationCanceledException) { break; }
                pending = null;
                if (!open) break;
                while (reader.TryRead(out var e))
                {
                    await WriteEventAsync(context, request, e, matches);
                    lastSent = Math.Max(lastSent, e.Object.Revision);
                }
                await context.Response.Body.FlushAsync(token);
            }
            if (watcher.Overflowed)
                logger.LogWarning("closed a watch of {Resource} that fell more than its queue behind", request.Type.Key);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            logger.LogDebug("watch of {Resource} ended: {Reason}", request.Type.Key, e.Message);
        }
    }

    private static async Task StartAsync(HttpContext context)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        await context.Response.StartAsync(context.RequestAborted);
    }

    private async Task WriteEventAsync(HttpContext context, WatchRequest request, StoreEvent e, Func<JsonElement, bool>? matches)
    {
        var type = WatchTranslation.Translate(e, matches);
        if (type is null) return;
        var stored = ApiHandler.ForVersion(e.Object, request.Type);
        if (request.Table)
        {
            var table = TableBuilder.Build(request.Type, [stored.Root], stored.Revision.ToString(CultureInfo.InvariantCulture), null,
                request.Include, time.GetUtcNow(), withColumns: !_columnsSent);
            _columnsSent = true;
            await WriteNodeAsync(context, new JsonObject { ["type"] = type, ["object"] = table });
            return;
        }
        var prefix = Encoding.UTF8.GetBytes($"{{\"type\":\"{type}\",\"object\":");
        var line = new byte[prefix.Length + stored.Json.Length + 2];
        prefix.CopyTo(line, 0);
        stored.Json.CopyTo(line, prefix.Length);
        line[^2] = (byte)'}';
        line[^1] = (byte)'\n';
        await context.Response.Body.WriteAsync(line, context.RequestAborted);
    }

    private static async Task WriteBookmarkAsync(HttpContext context, ResourceType type, long revision, CancellationToken token)
    {
        await WriteNodeAsync(context, new JsonObject
        {
            ["type"] = "BOOKMARK",
            ["object"] = new JsonObject
            {
                ["kind"] = type.Kind,
                ["apiVersion"] = type.ApiVersion,
                ["metadata"] = new JsonObject { ["resourceVersion"] = revision.ToString(CultureInfo.InvariantCulture) },
            },
        });
        await context.Response.Body.FlushAsync(token);
    }

    private static async Task WriteNodeAsync(HttpContext context, JsonNode node)
    {
        await context.Response.Body.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(node, WireJson.Options), context.RequestAborted);
        await context.Response.Body.WriteAsync(Newline, context.RequestAborted);
    }
}
