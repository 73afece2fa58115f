using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using k8s;
using k8s.Exceptions;

namespace Trellis.ControllerRuntime.Clients;

/// <summary>
/// The connection of the operator or the agent to one API server: its address, a TLS client that trusts the cluster's
/// CA (and shows a client certificate when configured), and the credentials put on every request. The requests
/// themselves are <see cref="ApiHttp"/>'s. It is built from KubernetesClient's configuration type, but never through
/// KubernetesClient's <c>Kubernetes</c> class: that class's constructor reaches KubernetesJson, whose serializers for
/// every Kubernetes model a Native AOT binary would then carry.
/// </summary>
public sealed class ApiClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly Func<HttpRequestMessage, CancellationToken, Task> _authorize;

    private ApiClient(HttpClient http, bool ownsHttp, Uri baseUri, bool http2, Func<HttpRequestMessage, CancellationToken, Task> authorize)
    {
        _http = http;
        _ownsHttp = ownsHttp;
        BaseUri = baseUri;
        Http2 = http2;
        _authorize = authorize;
    }

    /// <summary>The server's address, ending in a slash.</summary>
    public Uri BaseUri { get; }

    /// <summary>HTTP/2 where the server offers it; HTTP/1.1 only when the configuration disables HTTP/2.</summary>
    public bool Http2 { get; }

    /// <summary>
    /// A client for the server <paramref name="config"/> names. <paramref name="handlers"/> see every request, first
    /// to last, before it goes out (counting writes, say).
    /// </summary>
    public static ApiClient Connect(KubernetesClientConfiguration config, params DelegatingHandler[] handlers)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (string.IsNullOrEmpty(config.Host) || !Uri.TryCreate(config.Host, UriKind.Absolute, out var host) || host.Scheme is not ("https" or "http"))
            throw new KubeConfigException($"the API server must be an http or https address, not '{config.Host}'");
        var transport = new SocketsHttpHandler
        {
            // Watches share HTTP/2 connections (a second opens when one's stream limit is reached), as client-go's do;
            // pings find a connection that died silently (a node's address flapped, a load balancer dropped it)
            // instead of leaving its watches hanging.
            EnableMultipleHttp2Connections = true,
            KeepAlivePingDelay = TimeSpan.FromSeconds(30),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(15),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
            AutomaticDecompression = DecompressionMethods.GZip,
        };
        if (config.SkipTlsVerify)
            transport.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        else if (config.SslCaCerts is { Count: > 0 } authorities)
        {
            var trusted = new X509Certificate2Collection(authorities);
            transport.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => Trusted(trusted, certificate, errors);
        }
        if (ClientCertificate(config) is { } certificate)
            transport.SslOptions.ClientCertificates = new X509CertificateCollection { certificate };

        HttpMessageHandler pipeline = transport;
        foreach (var handler in handlers.Reverse())
        {
            handler.InnerHandler = pipeline;
            pipeline = handler;
        }
        // The timeout bounds a request until its response headers are in (100 s unless configured), as KubernetesClient's
        // did: a hung server cannot stall a status write forever, and a watch, whose headers come at once, is not cut.
        var http = new HttpClient(pipeline, disposeHandler: true) { Timeout = config.HttpClientTimeout };
        var baseUri = new Uri(host.AbsoluteUri.EndsWith('/') ? host.AbsoluteUri : host.AbsoluteUri + "/");
        return new ApiClient(http, ownsHttp: true, baseUri, !config.DisableHttp2, (request, cancellationToken) => AuthorizeAsync(config, request, cancellationToken));
    }

    /// <summary>
    /// The same requests through a KubernetesClient <see cref="Kubernetes"/> a process already holds (trellis-local's
    /// kubelets and scheduler, tests): its HttpClient and its credentials. The operator and the agent never call this,
    /// so their Native AOT builds do not carry that class.
    /// </summary>
    public static ApiClient Over(IKubernetes client)
    {
        var kubernetes = client as Kubernetes
            ?? throw new ArgumentException($"needs KubernetesClient's {nameof(Kubernetes)} (its HttpClient and credentials), not {client.GetType().Name}", nameof(client));
        return new ApiClient(kubernetes.HttpClient, ownsHttp: false, kubernetes.BaseUri, http2: true,
            (request, cancellationToken) => kubernetes.Credentials?.ProcessHttpRequestAsync(request, cancellationToken) ?? Task.CompletedTask);
    }

    /// <summary>Puts the credentials on <paramref name="request"/> and sends it; the response is returned once its headers are in.</summary>
    internal async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        await _authorize(request, cancellationToken).ConfigureAwait(false);
        return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        if (_ownsHttp)
            _http.Dispose();
    }

    /// <summary>
    /// A token (a service account's file, re-read as it rotates, or a fixed one), or a user name and password; and the
    /// server's name for TLS when the kubeconfig gives one.
    /// </summary>
    private static async Task AuthorizeAsync(KubernetesClientConfiguration config, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (config.TokenProvider is { } tokens)
            request.Headers.Authorization = await tokens.GetAuthenticationHeaderAsync(cancellationToken).ConfigureAwait(false);
        else if (!string.IsNullOrEmpty(config.AccessToken))
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", config.AccessToken);
        else if (!string.IsNullOrEmpty(config.Username) || !string.IsNullOrEmpty(config.Password))
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes($"{config.Username}:{config.Password}")));
        if (!string.IsNullOrEmpty(config.UserAgent))
            request.Headers.UserAgent.ParseAdd(config.UserAgent);
        // The name the server's certificate must carry, when it is not the address's: SocketsHttpHandler takes the TLS
        // server name (SNI, and the name checked) from the Host header and overrides one set in its SSL options.
        if (!string.IsNullOrEmpty(config.TlsServerName))
            request.Headers.Host = config.TlsServerName;
    }

    /// <summary>
    /// The server's certificate must name the server and chain either to the machine's trusted roots or to one of the
    /// cluster's CAs, as KubernetesClient and client-go accept it.
    /// </summary>
    private static bool Trusted(X509Certificate2Collection authorities, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
            return true;
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != 0)
            return false; // no certificate, or it is for another name
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var presented = new X509Certificate2(certificate);
        return chain.Build(presented);
    }

    private static X509Certificate2? ClientCertificate(KubernetesClientConfiguration config)
    {
        var certificate = Pem(config.ClientCertificateData, config.ClientCertificateFilePath, "client certificate");
        var key = Pem(config.ClientCertificateKeyData, config.ClientKeyFilePath, "client key");
        if (certificate is null && key is null)
            return null;
        if (certificate is null || key is null)
            throw new KubeConfigException("a client certificate needs both the certificate and its key");
        try
        {
            return X509Certificate2.CreateFromPem(certificate, key);
        }
        catch (System.Security.Cryptography.CryptographicException error)
        {
            throw new KubeConfigException($"the client certificate and key do not load: {error.Message}");
        }
    }

    /// <summary>PEM text from base64 data (a kubeconfig's *-data fields) or from a file.</summary>
    private static string? Pem(string? base64, string? path, string what)
    {
        try
        {
            if (!string.IsNullOrEmpty(base64))
                return Encoding.ASCII.GetString(Convert.FromBase64String(base64));
            return string.IsNullOrEmpty(path) ? null : File.ReadAllText(path);
        }
        catch (Exception error) when (error is FormatException or IOException or UnauthorizedAccessException)
        {
            throw new KubeConfigException($"{what}: {error.Message}");
        }
    }
}
