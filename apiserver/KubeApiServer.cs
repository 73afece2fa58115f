using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Trellis.ApiServer.Routing;
using Trellis.ApiServer.Storage;

namespace Trellis.ApiServer;

/// <summary>
/// An in-process Kubernetes API server over plain HTTP without authentication, for tests and the
/// local cluster mode. It speaks the real protocol for everything the operator, the node agent
/// and kubectl use; objects live in memory. kubectl apply needs --validate=false because
/// /openapi/v2 and /openapi/v3 are not served; server-side apply is not supported.
/// </summary>
public sealed class KubeApiServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ObjectStore _store;
    private readonly CancellationTokenSource _stopping;

    private KubeApiServer(WebApplication app, ObjectStore store, ApiServerMetrics metrics, CancellationTokenSource stopping, Uri baseAddress)
    {
        _app = app;
        _store = store;
        _stopping = stopping;
        Metrics = metrics;
        BaseAddress = baseAddress;
    }

    /// <summary>http://127.0.0.1:&lt;port&gt;</summary>
    public Uri BaseAddress { get; }

    public ApiServerMetrics Metrics { get; }

    public static async Task<KubeApiServer> StartAsync(KubeApiServerOptions? options = null, CancellationToken ct = default)
    {
        options ??= new KubeApiServerOptions();
        options.Validate();
        var loggerFactory = options.LoggerFactory ?? NullLoggerFactory.Instance;
        var time = TimeProvider.System;
        var store = new ObjectStore(options.WatchHistoryLimit, options.WatcherQueueLimit, time);
        foreach (var name in new[] { "default", "kube-system", "kube-public", "kube-node-lease" })
            store.Create(BuiltInResources.Namespaces, null, new JsonObject
            {
                ["kind"] = "Namespace",
                ["apiVersion"] = "v1",
                ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = new JsonObject { ["kubernetes.io/metadata.name"] = name } },
                ["spec"] = new JsonObject { ["finalizers"] = new JsonArray("kubernetes") },
                ["status"] = new JsonObject { ["phase"] = "Active" },
            });

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = 64 * 1024 * 1024;
            kestrel.Listen(IPAddress.Loopback, options.Port);
            foreach (var socket in options.AdditionalListeners) kestrel.ListenHandle((ulong)socket.Handle.ToInt64());
        });
        var app = builder.Build();
        var stopping = new CancellationTokenSource();
        var metrics = new ApiServerMetrics();
        string address = "";
        var handler = new ApiHandler(new ResourceRegistry(), store, metrics, options, time, () => address, stopping.Token,
            loggerFactory.CreateLogger<KubeApiServer>());
        app.Run(handler.HandleAsync);
        await app.StartAsync(ct);

        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .Select(a => new Uri(a)).First(u => u.Host is "127.0.0.1" or "localhost");
        var baseAddress = new Uri($"http://127.0.0.1:{bound.Port}");
        address = $"127.0.0.1:{bound.Port}";
        return new KubeApiServer(app, store, metrics, stopping, baseAddress);
    }

    /// <summary>A kubeconfig for kubectl and KubernetesClient: this server, plain HTTP, no credentials, namespace default.</summary>
    /// <param name="server">Where the reader reaches this server, when not <see cref="BaseAddress"/> (e.g. a listener inside a network namespace).</param>
    public void WriteKubeconfig(string path, Uri? server = null)
    {
        if (server is not null && server.Scheme != Uri.UriSchemeHttp)
            throw new ArgumentException($"the API server is served over plain http, so a kubeconfig for {server} would not reach it", nameof(server));
        var text = $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: trellis
              cluster:
                server: {(server ?? BaseAddress).ToString().TrimEnd('/')}
            contexts:
            - name: trellis
              context:
                cluster: trellis
                user: trellis
                namespace: default
            current-context: trellis
            users:
            - name: trellis
              # The server does not authenticate; KubernetesClient refuses a user without credentials.
              user:
                token: trellis-local
            preferences: {"{}"}

            """;
        File.WriteAllText(path, text);
    }

    /// <summary>Fault injection: closes every open watch stream now.</summary>
    public void BreakWatches() => _store.BreakWatches();

    /// <summary>Fault injection: forgets event history, so a watch from any older resourceVersion gets 410 Gone.</summary>
    public void CompactHistory() => _store.CompactHistory();

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _store.BreakWatches();
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(grace.Token);
        await _app.DisposeAsync();
        _stopping.Dispose();
    }
}
