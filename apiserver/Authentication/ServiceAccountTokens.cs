using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Trellis.ApiServer.Authentication;

/// <summary>The claims of a bound ServiceAccount token, as the TokenRequest API issues them.</summary>
public sealed record ServiceAccountClaims(string Namespace, string Name, string Uid, IReadOnlyList<string> Audiences, DateTimeOffset IssuedAt, DateTimeOffset Expires, string Id);

/// <summary>
/// Bound ServiceAccount tokens: RS256-signed JWTs carrying the Kubernetes claims (iss, sub, aud,
/// exp, kubernetes.io.serviceaccount), signed with a key made when the server starts, so a token
/// is good only for the server that issued it. Whether the ServiceAccount still exists with the
/// same uid is the caller's check: the token alone cannot know.
/// </summary>
public sealed class ServiceAccountTokens : IDisposable
{
    public const string Issuer = "https://kubernetes.default.svc.cluster.local";
    public static readonly IReadOnlyList<string> DefaultAudiences = [Issuer];

    // Made on the first token: a 2048-bit key costs a noticeable moment, and most servers in tests never issue one.
    private readonly Lazy<(RSA Key, string Id)> _signing = new(() =>
    {
        var key = RSA.Create(2048);
        return (key, Base64Url(SHA256.HashData(key.ExportSubjectPublicKeyInfo()))[..16]);
    });

    public string Issue(ServiceAccountClaims claims)
    {
        var (key, keyId) = _signing.Value;
        var header = new JsonObject { ["alg"] = "RS256", ["kid"] = keyId };
        var payload = new JsonObject
        {
            ["aud"] = new JsonArray(claims.Audiences.Select(a => (JsonNode)a).ToArray()),
            ["exp"] = claims.Expires.ToUnixTimeSeconds(),
            ["iat"] = claims.IssuedAt.ToUnixTimeSeconds(),
            ["iss"] = Issuer,
            ["jti"] = claims.Id,
            ["kubernetes.io"] = new JsonObject
            {
                ["namespace"] = claims.Namespace,
                ["serviceaccount"] = new JsonObject { ["name"] = claims.Name, ["uid"] = claims.Uid },
            },
            ["nbf"] = claims.IssuedAt.ToUnixTimeSeconds(),
            ["sub"] = UserInfo.ServiceAccountUserName(claims.Namespace, claims.Name),
        };
        var signed = Base64Url(Encoding.UTF8.GetBytes(header.ToJsonString())) + "." + Base64Url(Encoding.UTF8.GetBytes(payload.ToJsonString()));
        var signature = key.SignData(Encoding.ASCII.GetBytes(signed), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signed + "." + Base64Url(signature);
    }

    /// <returns>The claims of a token this server signed that has not expired, or null.</returns>
    public ServiceAccountClaims? Verify(string token, DateTimeOffset now)
    {
        var parts = token.Split('.');
        if (parts.Length != 3 || !_signing.IsValueCreated) return null;
        try
        {
            var signature = FromBase64Url(parts[2]);
            if (!_signing.Value.Key.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)) return null;
            var payload = JsonNode.Parse(FromBase64Url(parts[1]))!.AsObject();
            if (payload["iss"]?.GetValue<string>() != Issuer) return null;
            var expires = DateTimeOffset.FromUnixTimeSeconds(payload["exp"]!.GetValue<long>());
            var notBefore = DateTimeOffset.FromUnixTimeSeconds(payload["nbf"]!.GetValue<long>());
            if (now >= expires || now < notBefore.AddMinutes(-1)) return null;
            var kubernetes = payload["kubernetes.io"]!;
            return new ServiceAccountClaims(
                kubernetes["namespace"]!.GetValue<string>(),
                kubernetes["serviceaccount"]!["name"]!.GetValue<string>(),
                kubernetes["serviceaccount"]!["uid"]!.GetValue<string>(),
                payload["aud"]!.AsArray().Select(a => a!.GetValue<string>()).ToArray(),
                DateTimeOffset.FromUnixTimeSeconds(payload["iat"]!.GetValue<long>()),
                expires,
                payload["jti"]?.GetValue<string>() ?? "");
        }
        catch (Exception e) when (e is FormatException or System.Text.Json.JsonException or InvalidOperationException or NullReferenceException or CryptographicException)
        {
            return null;
        }
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromBase64Url(string text)
    {
        var padded = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(padded + new string('=', (4 - padded.Length % 4) % 4));
    }

    public void Dispose()
    {
        if (_signing.IsValueCreated) _signing.Value.Key.Dispose();
    }
}
