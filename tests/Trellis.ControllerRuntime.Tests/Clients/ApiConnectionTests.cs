using System.Net;
using k8s.Autorest;
using k8s.Exceptions;
using k8s.Models;
using Trellis.ApiServer;
using Trellis.ControllerRuntime.Clients;
using Xunit;

namespace Trellis.ControllerRuntime.Tests.Clients;

/// <summary>
/// The operator and the agent read their kubeconfig here, not through KubernetesClient's loader: what they accept must
/// reach a real server, and everything else must be refused with the reason, before any request.
/// </summary>
public sealed class ApiConnectionTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("trellis-kubeconfig-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task AKubeconfigWithACaAndATokenReachesTheServer()
    {
        await using var server = await KubeApiServer.StartAsync(new KubeApiServerOptions());
        var path = Path.Combine(_directory, "config");
        server.WriteKubeconfig(path);

        using var client = ApiConnection.Connect(path);
        var ns = await ApiHttp.ReadAsync<V1Namespace>(client, "/api/v1/namespaces/default", CancellationToken.None);

        Assert.Equal("default", ns.Metadata.Name);
        Assert.Equal("default", ApiConnection.FromKubeconfig(path).Namespace);
    }

    [Fact]
    public async Task AWrongTokenIsTheServersRefusalNotASilentAnonymousRequest()
    {
        await using var server = await KubeApiServer.StartAsync(new KubeApiServerOptions());
        var path = Path.Combine(_directory, "config");
        server.WriteKubeconfig(path, token: "not-a-token");

        using var client = ApiConnection.Connect(path);
        var error = await Assert.ThrowsAsync<HttpOperationException>(() =>
            ApiHttp.ReadAsync<V1Namespace>(client, "/api/v1/namespaces/default", CancellationToken.None));

        Assert.Equal(HttpStatusCode.Unauthorized, error.Response.StatusCode);
    }

    [Fact]
    public async Task AnotherServersCaIsNotTrusted()
    {
        await using var server = await KubeApiServer.StartAsync(new KubeApiServerOptions());
        await using var other = await KubeApiServer.StartAsync(new KubeApiServerOptions());
        var path = Path.Combine(_directory, "config");
        other.WriteKubeconfig(path, server: server.BaseAddress, token: server.AdminToken);

        using var client = ApiConnection.Connect(path);

        await Assert.ThrowsAsync<HttpRequestException>(() =>
            ApiHttp.ReadAsync<V1Namespace>(client, "/api/v1/namespaces/default", CancellationToken.None));
    }

    /// <summary>HTTP/2 where the server offers it (every watch on one connection), HTTP/1.1 when the configuration disables it.</summary>
    [Theory]
    [InlineData(false, "2.0")]
    [InlineData(true, "1.1")]
    public async Task TheHttpVersionFollowsTheConfiguration(bool disableHttp2, string version)
    {
        await using var server = await KubeApiServer.StartAsync(new KubeApiServerOptions());
        var seen = new ResponseVersions();
        using var client = ApiClient.Connect(new k8s.KubernetesClientConfiguration
        {
            Host = server.BaseAddress.ToString(), AccessToken = server.AdminToken, SslCaCerts = [server.CertificateAuthority], DisableHttp2 = disableHttp2,
        }, seen);

        await ApiHttp.ReadAsync<V1Namespace>(client, "/api/v1/namespaces/default", CancellationToken.None);

        Assert.Equal([version], seen.Versions.Distinct());
    }

    private sealed class ResponseVersions : DelegatingHandler
    {
        public List<string> Versions { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            lock (Versions) Versions.Add(response.Version.ToString());
            return response;
        }
    }

    /// <summary>
    /// tls-server-name is the name the certificate is checked against: one the server's certificate carries passes though
    /// the address is 127.0.0.1, and another fails though the cluster's CA signed the certificate.
    /// </summary>
    [Theory]
    [InlineData("kubernetes.default.svc", true)]
    [InlineData("api.elsewhere.example", false)]
    public async Task TheCertificateIsCheckedAgainstTheTlsServerName(string name, bool trusted)
    {
        await using var server = await KubeApiServer.StartAsync(new KubeApiServerOptions());
        var path = Path.Combine(_directory, "config");
        server.WriteKubeconfig(path);
        File.WriteAllText(path, File.ReadAllText(path).Replace("    certificate-authority-data:", $"    tls-server-name: {name}\n    certificate-authority-data:"));

        using var client = ApiConnection.Connect(path);
        var read = ApiHttp.ReadAsync<V1Namespace>(client, "/api/v1/namespaces/default", CancellationToken.None);

        if (trusted)
            Assert.Equal("default", (await read).Metadata.Name);
        else
            await Assert.ThrowsAsync<HttpRequestException>(() => read);
    }

    [Fact]
    public void RelativeFilesAreTakenFromTheKubeconfigsDirectoryAndCredentialsAreCarriedOver()
    {
        File.WriteAllText(Path.Combine(_directory, "ca.pem"), TestCertificatePem());
        var config = Load("""
            clusters:
            - name: c
              cluster:
                server: https://10.0.0.1:6443
                certificate-authority: ca.pem
                tls-server-name: api.example
            contexts:
            - name: x
              context: {cluster: c, user: u, namespace: kube-system}
            current-context: x
            users:
            - name: u
              user:
                client-certificate: certs/client.crt
                client-key: /etc/trellis/client.key
                username: alice
                password: secret
            """);

        Assert.Equal("https://10.0.0.1:6443", config.Host);
        Assert.Single(config.SslCaCerts);
        Assert.Equal("api.example", config.TlsServerName);
        Assert.Equal("kube-system", config.Namespace);
        Assert.Equal(Path.Combine(_directory, "certs/client.crt"), config.ClientCertificateFilePath);
        Assert.Equal("/etc/trellis/client.key", config.ClientKeyFilePath);
        Assert.Equal(("alice", "secret"), (config.Username, config.Password));
        Assert.Null(config.AccessToken);
    }

    [Theory]
    [InlineData("clusters: [{name: c, cluster: {server: 'https://a'}}]\ncontexts: [{name: x, context: {cluster: c}}]", "no current-context")]
    [InlineData("clusters: [{name: c, cluster: {server: 'https://a'}}]\ncontexts: [{name: x, context: {cluster: c}}]\ncurrent-context: y", "no context 'y'")]
    [InlineData("contexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x", "names cluster 'c', which it does not define")]
    [InlineData("clusters: [{name: c, cluster: {server: 'ftp://a'}}]\ncontexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x", "http or https server")]
    [InlineData("clusters: [{name: c, cluster: {}}]\ncontexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x", "http or https server")]
    [InlineData("clusters: [{name: c, cluster: {server: 'https://a', certificate-authority-data: '%%%'}}]\ncontexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x", "is not base64")]
    [InlineData("clusters: [{name: c, cluster: {server: 'https://a', certificate-authority-data: 'aGVsbG8='}}]\ncontexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x", "holds no certificate")]
    [InlineData("clusters: [{name: c, cluster: {server: 'https://a'}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x", "names user 'u', which it does not define")]
    [InlineData("clusters: [{name: c, cluster: {server: 'https://a'}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\nusers: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/false}}}]", "exec plugin or auth provider")]
    [InlineData("clusters: [{name: c, cluster: {server: 'https://a'}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\nusers: [{name: u, user: {auth-provider: {name: gcp}}}]", "exec plugin or auth provider")]
    [InlineData("clusters: [{name: c, cluster: {server: 'https://a', certificate-authority: missing.pem}}]\ncontexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x", "missing.pem")]
    [InlineData("clusters: [\n  - {", "kubeconfig")]
    public void AKubeconfigThatCannotBeUsedIsRefusedWithTheReason(string yaml, string reason)
    {
        var error = Assert.Throws<KubeConfigException>(() => Load(yaml));

        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void AMissingFileIsRefused()
    {
        var error = Assert.Throws<KubeConfigException>(() => ApiConnection.FromKubeconfig(Path.Combine(_directory, "absent")));
        Assert.Contains("absent", error.Message);
    }

    private k8s.KubernetesClientConfiguration Load(string yaml)
    {
        var path = Path.Combine(_directory, "config");
        File.WriteAllText(path, "apiVersion: v1\nkind: Config\n" + yaml + "\n");
        return ApiConnection.FromKubeconfig(path);
    }

    /// <summary>A self-signed certificate in PEM, made here: the loader only has to find one in the file.</summary>
    private static string TestCertificatePem()
    {
        using var key = System.Security.Cryptography.ECDsa.Create();
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=test", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return certificate.ExportCertificatePem();
    }
}
