using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Trellis.ApiServer.Transport;

/// <summary>
/// The server's TLS identity, made when it starts: a self-signed cluster CA (what a kubeconfig's
/// certificate-authority-data holds) and a serving certificate it signed for every address the
/// server listens on and the in-cluster names. TLS is not optional: client-go (kubectl) never
/// sends a bearer token over plain HTTP.
/// </summary>
public sealed class ServingCertificates : IDisposable
{
    public X509Certificate2 Authority { get; }
    public X509Certificate2 Serving { get; }

    public ServingCertificates(IEnumerable<IPAddress> addresses)
    {
        var now = DateTimeOffset.UtcNow;
        using var authorityKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var authorityRequest = new CertificateRequest("CN=trellis-ca", authorityKey, HashAlgorithmName.SHA256);
        authorityRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        authorityRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        authorityRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(authorityRequest.PublicKey, false));
        using var authority = authorityRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(10));
        Authority = X509CertificateLoader.LoadCertificate(authority.Export(X509ContentType.Cert));

        using var servingKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var servingRequest = new CertificateRequest("CN=kube-apiserver", servingKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        foreach (var dns in new[] { "localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local" })
            names.AddDnsName(dns);
        foreach (var address in addresses.Append(IPAddress.Loopback).Append(IPAddress.IPv6Loopback).Distinct()) names.AddIpAddress(address);
        servingRequest.CertificateExtensions.Add(names.Build());
        servingRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        servingRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        servingRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        servingRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, true, false));
        using var signed = servingRequest.Create(authority, now.AddMinutes(-5), now.AddYears(1), RandomNumberGenerator.GetBytes(16));
        using var withKey = signed.CopyWithPrivateKey(servingKey);
        // Re-imported so Kestrel on Linux gets a certificate whose key it can use for every handshake.
        Serving = X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>The CA in PEM, as certificate-authority-data carries it (base64 of this text).</summary>
    public string AuthorityPem => Authority.ExportCertificatePem() + "\n";

    /// <summary>Whether a server certificate chains to <paramref name="authority"/> alone (not the machine's trust store).</summary>
    public static bool ChainsTo(X509Certificate2 authority, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(leaf);
    }

    /// <summary>An HTTP handler that trusts only this server's CA: for raw HTTP clients in tests and tools.</summary>
    public static HttpClientHandler TrustingHandler(X509Certificate2 authority) => new()
    {
        ServerCertificateCustomValidationCallback = (_, certificate, _, errors) => ChainsTo(authority, certificate, errors),
    };

    public void Dispose()
    {
        Authority.Dispose();
        Serving.Dispose();
    }
}
