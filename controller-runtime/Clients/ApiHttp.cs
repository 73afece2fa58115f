using System.Net;
using System.Text;
using k8s;
using k8s.Autorest;

namespace Trellis.ControllerRuntime.Clients;

/// <summary>
/// A GET through a KubernetesClient <see cref="Kubernetes"/>: its HttpClient (TLS, handlers) and its credentials, but with
/// the response left unread, so a watch can be streamed line by line. KubernetesClient's own watch helpers are absent
/// from its Native AOT package; this one path serves both.
/// </summary>
public static class ApiHttp
{
    /// <summary>
    /// Sends <c>GET {BaseUri}{path}?{query}</c> and returns the response once its headers have arrived. A status other
    /// than 2xx is thrown as <see cref="HttpOperationException"/> carrying the status and the server's body, as the
    /// generated client methods do.
    /// </summary>
    public static async Task<HttpResponseMessage> GetAsync(IKubernetes client, string path, IEnumerable<(string Name, string? Value)> query,
        CancellationToken cancellationToken)
    {
        var kubernetes = client as Kubernetes
            ?? throw new ArgumentException($"list and watch need KubernetesClient's {nameof(Kubernetes)} (its HttpClient and credentials), not {client.GetType().Name}", nameof(client));
        // HTTP/2 where the server offers it, as the generated methods ask and client-go does: every watch shares one connection.
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(kubernetes.BaseUri, path.TrimStart('/') + QueryString(query)))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        if (kubernetes.Credentials is { } credentials)
            await credentials.ProcessHttpRequestAsync(request, cancellationToken).ConfigureAwait(false);
        HttpResponseMessage response;
        try
        {
            response = await kubernetes.HttpClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            request.Dispose();
            throw;
        }
        if (response.IsSuccessStatusCode)
            return response;
        using (request)
        using (response)
        {
            // The wrappers copy what they keep (status, headers, body), as the generated methods' errors do.
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            throw new HttpOperationException($"Operation returned an invalid status code '{response.StatusCode}', response body {body}")
            {
                Request = new HttpRequestMessageWrapper(request, null),
                Response = new HttpResponseMessageWrapper(response, body),
            };
        }
    }

    /// <summary><c>?a=1&amp;b=x%3Dy</c> of the parameters that have a value; empty when none has.</summary>
    public static string QueryString(IEnumerable<(string Name, string? Value)> query)
    {
        var text = new StringBuilder();
        foreach (var (name, value) in query)
        {
            if (value is null) continue;
            text.Append(text.Length == 0 ? '?' : '&').Append(name).Append('=').Append(Uri.EscapeDataString(value));
        }
        return text.ToString();
    }

    /// <summary>True when <paramref name="error"/> is the server's 410 Gone.</summary>
    public static bool IsGone(Exception error) =>
        error is HttpOperationException { Response.StatusCode: HttpStatusCode.Gone };
}
