using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Trellis.ApiServer.Authentication;
using Trellis.ApiServer.Authorization;
using Trellis.ApiServer.Routing;
using Trellis.ApiServer.Transport;
using Trellis.ApiServer.Storage;

namespace Trellis.ApiServer;

/// <summary>
/// An in-process Kubernetes API server over plain HTTP, for tests and the local cluster mode. It
/// speaks the real protocol for everything the operator, the node agent and kubectl use, with
/// bearer-token authentication and RBAC; objects live in memory.
/// </summary>
public sealed class KubeApiServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ObjectStore _store;
    private readonly CancellationTokenSource _stopping;
    private readonly ServiceAccountTokens _serviceAccountTokens;
    private readonly ServingCertificates _certificates;

    public const string AdminUser = "kubernetes-admin";

    private KubeApiServer(WebApplication app, ObjectStore store, ApiServerMetrics metrics, CancellationTokenSource stopping, Uri baseAddress,
        ServiceAccountTokens serviceAccountTokens, string adminToken, ServingCertificates certificates)
    {
        _certificates = certificates;
        _app = app;
        _store = store;
        _stopping = stopping;
        _serviceAccountTokens = serviceAccountTokens;
        AdminToken = adminToken;
        Metrics = metrics;
        BaseAddress = baseAddress;
    }

    /// <summary>The cluster CA that signed the serving certificate: what clients must trust.</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2 CertificateAuthority => _certificates.Authority;

    /// <summary>An HTTP handler that trusts this server's CA only, for raw HTTP clients.</summary>
    public HttpClientHandler CreateTrustingHandler() => ServingCertificates.TrustingHandler(_certificates.Authority);

    /// <summary>https://127.0.0.1:&lt;port&gt;</summary>
    public Uri BaseAddress { get; }

    public ApiServerMetrics Metrics { get; }

    private Authorizer _authorizer = null!;

    /// <summary>Every authorization decision about a user outside system:masters (which rule a component needed, what it was refused).</summary>
    public IReadOnlyList<AuthorizationRecord> AuthorizationLog => _authorizer.Log;

    /// <summary>Raised for every request refused (403) to a user outside system:masters, as it is refused.</summary>
    public event Action<AuthorizationRecord>? Refused
    {
        add => _authorizer.Refused += value;
        remove => _authorizer.Refused -= value;
    }

    /// <summary>The bearer token of <see cref="AdminUser"/> (group system:masters, allowed everything), made at start.</summary>
    public string AdminToken { get; }

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

        foreach (var role in BootstrapPolicy.ClusterRoles()) store.Create(BuiltInResources.ClusterRoles, null, role);
        foreach (var binding in BootstrapPolicy.ClusterRoleBindings()) store.Create(BuiltInResources.ClusterRoleBindings, null, binding);
        var adminToken = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
        var serviceAccountTokens = new ServiceAccountTokens();
        var authenticator = new Authenticator(store, serviceAccountTokens,
            [new StaticToken(adminToken, new UserInfo(AdminUser, [UserInfo.Masters, UserInfo.Authenticated])), .. options.StaticTokens],
            options.AnonymousAuth, time);

        var certificates = new ServingCertificates(options.AdditionalListeners.Select(l => ((IPEndPoint)l.LocalEndPoint!).Address)
            .Concat(options.CertificateAddresses).Where(a => !a.Equals(IPAddress.Any) && !a.Equals(IPAddress.IPv6Any)));

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = 64 * 1024 * 1024;
            kestrel.Listen(IPAddress.Loopback, options.Port, listen => listen.UseHttps(certificates.Serving));
            foreach (var socket in options.AdditionalListeners)
                kestrel.ListenHandle((ulong)socket.Handle.ToInt64(), listen => listen.UseHttps(certificates.Serving));
        });
        var app = builder.Build();
        var stopping = new CancellationTokenSource();
        var metrics = new ApiServerMetrics();
        string address = "";
        var authorizer = new Authorizer(store);
        var handler = new ApiHandler(new ResourceRegistry(), store, metrics, authenticator, authorizer, serviceAccountTokens, options, time, () => address, stopping.Token,
            loggerFactory.CreateLogger<KubeApiServer>());
        app.Run(handler.HandleAsync);
        await app.StartAsync(ct);

        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .Select(a => new Uri(a)).First(u => u.Host is "127.0.0.1" or "localhost");
        var baseAddress = new Uri($"https://127.0.0.1:{bound.Port}");
        address = $"127.0.0.1:{bound.Port}";
        return new KubeApiServer(app, store, metrics, stopping, baseAddress, serviceAccountTokens, adminToken, certificates) { _authorizer = authorizer };
    }

    /// <summary>A kubeconfig for kubectl and KubernetesClient: this server and its CA, a bearer token, namespace default.</summary>
    /// <param name="server">Where the reader reaches this server, when not <see cref="BaseAddress"/> (e.g. a listener inside a network namespace).</param>
    /// <param name="token">Whose identity the kubeconfig holds: the admin's unless another token is given (a ServiceAccount's, say).</param>
    /// <param name="user">The name of the kubeconfig's user entry.</param>
    public void WriteKubeconfig(string path, Uri? server = null, string? token = null, string user = "admin")
    {
        if (server is not null && server.Scheme != Uri.UriSchemeHttps)
            throw new ArgumentException($"the API server is served over https only, so a kubeconfig for {server} would not reach it", nameof(server));
        var text = $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: trellis
              cluster:
                server: {(server ?? BaseAddress).ToString().TrimEnd('/')}
                certificate-authority-data: {Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes(_certificates.AuthorityPem))}
            contexts:
            - name: trellis
              context:
                cluster: trellis
                user: {user}
                namespace: default
            current-context: trellis
            users:
            - name: {user}
              user:
                token: {token ?? AdminToken}
            preferences: {"{}"}

            """;
        File.WriteAllText(path, text);
        // A credential: readable by its owner only, as kubeadm writes admin.conf.
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
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
        _serviceAccountTokens.Dispose();
        _certificates.Dispose();
    }
}
