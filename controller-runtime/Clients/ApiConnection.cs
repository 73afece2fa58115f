using System.Security.Cryptography.X509Certificates;
using k8s;
using k8s.Exceptions;
using k8s.KubeConfigModels;

namespace Trellis.ControllerRuntime.Clients;

/// <summary>
/// Where the API server is and who the operator or the agent is to it: the pod's service account in a cluster, or a
/// kubeconfig file. A kubeconfig's server and CA, and a token, token file, client certificate or user name and password
/// are read here. Exec plugins and auth providers are refused: they are kubectl's way to log a person in, a controller
/// runs with a service account, and KubernetesClient's loader, which runs them, would bring its JSON serializers for
/// every Kubernetes model into the Native AOT binaries.
/// </summary>
public static class ApiConnection
{
    /// <summary>The service account's (in a pod) when <paramref name="kubeconfig"/> is empty, the file's otherwise.</summary>
    public static ApiClient Connect(string? kubeconfig, params DelegatingHandler[] handlers) =>
        ApiClient.Connect(string.IsNullOrEmpty(kubeconfig) ? KubernetesClientConfiguration.InClusterConfig() : FromKubeconfig(kubeconfig), handlers);

    /// <summary>The configuration of the file's current context.</summary>
    public static KubernetesClientConfiguration FromKubeconfig(string path)
    {
        K8SConfiguration file;
        try
        {
            file = KubernetesClientConfiguration.LoadKubeConfig(path);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or YamlDotNet.Core.YamlException)
        {
            throw new KubeConfigException($"kubeconfig {path}: {error.Message}");
        }
        return FromKubeconfig(file, Path.GetDirectoryName(Path.GetFullPath(path)) ?? "/");
    }

    /// <summary>
    /// The configuration of <paramref name="file"/>'s current context. Relative file names in it are taken from
    /// <paramref name="directory"/>, the file's own, as kubectl does.
    /// </summary>
    public static KubernetesClientConfiguration FromKubeconfig(K8SConfiguration file, string directory)
    {
        ArgumentNullException.ThrowIfNull(file);
        var name = file.CurrentContext;
        if (string.IsNullOrEmpty(name))
            throw new KubeConfigException("kubeconfig has no current-context");
        var context = file.Contexts?.FirstOrDefault(c => c.Name == name)?.ContextDetails
            ?? throw new KubeConfigException($"kubeconfig has no context '{name}' (its current-context)");
        var cluster = file.Clusters?.FirstOrDefault(c => c.Name == context.Cluster)?.ClusterEndpoint
            ?? throw new KubeConfigException($"kubeconfig context '{name}' names cluster '{context.Cluster}', which it does not define");
        if (string.IsNullOrEmpty(cluster.Server) || !Uri.TryCreate(cluster.Server, UriKind.Absolute, out var server) || server.Scheme is not ("https" or "http"))
            throw new KubeConfigException($"kubeconfig cluster '{context.Cluster}' needs an http or https server, not '{cluster.Server}'");

        var config = new KubernetesClientConfiguration
        {
            Host = cluster.Server,
            Namespace = context.Namespace,
            SkipTlsVerify = cluster.SkipTlsVerify,
            TlsServerName = cluster.TlsServerName,
        };
        if (!string.IsNullOrEmpty(cluster.CertificateAuthorityData))
            config.SslCaCerts = Certificates(Base64(cluster.CertificateAuthorityData, $"cluster '{context.Cluster}' certificate-authority-data"),
                $"cluster '{context.Cluster}' certificate-authority-data");
        else if (!string.IsNullOrEmpty(cluster.CertificateAuthority))
            config.SslCaCerts = Certificates(ReadFile(Path.Combine(directory, cluster.CertificateAuthority)), cluster.CertificateAuthority);

        if (string.IsNullOrEmpty(context.User))
            return config;
        var user = file.Users?.FirstOrDefault(u => u.Name == context.User)?.UserCredentials
            ?? throw new KubeConfigException($"kubeconfig context '{name}' names user '{context.User}', which it does not define");
        if (user.ExternalExecution is not null || user.AuthProvider is not null)
            throw new KubeConfigException($"kubeconfig user '{context.User}' logs in through an exec plugin or auth provider, which Trellis does not run: " +
                "give it a token, a client certificate, or a user name and password");
        config.AccessToken = NullIfEmpty(user.Token);
        config.Username = NullIfEmpty(user.UserName);
        config.Password = NullIfEmpty(user.Password);
        config.ClientCertificateData = NullIfEmpty(user.ClientCertificateData);
        config.ClientCertificateKeyData = NullIfEmpty(user.ClientKeyData);
        config.ClientCertificateFilePath = string.IsNullOrEmpty(user.ClientCertificate) ? null : Path.Combine(directory, user.ClientCertificate);
        config.ClientKeyFilePath = string.IsNullOrEmpty(user.ClientKey) ? null : Path.Combine(directory, user.ClientKey);
        return config;
    }

    private static X509Certificate2Collection Certificates(byte[] pem, string source)
    {
        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPem(System.Text.Encoding.ASCII.GetString(pem));
        }
        catch (System.Security.Cryptography.CryptographicException error)
        {
            throw new KubeConfigException($"kubeconfig {source}: not PEM certificates: {error.Message}");
        }
        return certificates.Count > 0 ? certificates : throw new KubeConfigException($"kubeconfig {source} holds no certificate");
    }

    private static byte[] ReadFile(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new KubeConfigException($"kubeconfig certificate-authority {path}: {error.Message}");
        }
    }

    private static byte[] Base64(string text, string source)
    {
        try
        {
            return Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            throw new KubeConfigException($"kubeconfig {source} is not base64");
        }
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
