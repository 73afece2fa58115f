using System.Net;
using System.Net.Http.Headers;
using System.Text;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Trellis.ControllerRuntime.Clients;

/// <summary>
/// Every API request of the operator and the agent, sent through an <see cref="ApiClient"/>, with bodies in
/// <see cref="ApiJson"/>'s form. KubernetesClient's generated methods are not used: their serializers would bring every
/// Kubernetes model into a Native AOT binary. A watch's response is left unread, to be streamed line by line.
/// </summary>
public static class ApiHttp
{
    /// <summary>
    /// Sends <c>GET {BaseUri}{path}?{query}</c> and returns the response once its headers have arrived. A status other
    /// than 2xx is thrown as <see cref="HttpOperationException"/> carrying the status and the server's body, as the
    /// generated client methods do.
    /// </summary>
    public static Task<HttpResponseMessage> GetAsync(ApiClient client, string path, IEnumerable<(string Name, string? Value)> query,
        CancellationToken cancellationToken) =>
        SendAsync(client, HttpMethod.Get, path + QueryString(query), content: null, cancellationToken);

    /// <summary>GET of one object.</summary>
    public static Task<T> ReadAsync<T>(ApiClient client, string path, CancellationToken cancellationToken) =>
        ExchangeAsync<T>(client, HttpMethod.Get, path, content: null, cancellationToken);

    /// <summary>POST of a new object to its collection; the server's copy comes back.</summary>
    public static Task<T> CreateAsync<T>(ApiClient client, string collectionPath, T obj, CancellationToken cancellationToken) =>
        ExchangeAsync<T>(client, HttpMethod.Post, collectionPath, Json(obj), cancellationToken);

    /// <summary>PUT of a whole object (its resourceVersion makes it conditional).</summary>
    public static Task<T> ReplaceAsync<T>(ApiClient client, string path, T obj, CancellationToken cancellationToken) =>
        ExchangeAsync<T>(client, HttpMethod.Put, path, Json(obj), cancellationToken);

    /// <summary>PATCH with the patch's own content type; its content is sent as is when it is a string.</summary>
    public static Task<T> PatchAsync<T>(ApiClient client, string path, V1Patch patch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(patch);
        var body = patch.Content as string ?? ApiJson.Serialize(patch.Content);
        var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue(PatchContentType(patch.Type)) { CharSet = "utf-8" };
        return ExchangeAsync<T>(client, HttpMethod.Patch, path, content, cancellationToken);
    }

    /// <summary>DELETE of one object, with options (preconditions, propagation) when given.</summary>
    public static async Task DeleteAsync(ApiClient client, string path, V1DeleteOptions? options, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(client, HttpMethod.Delete, path, options is null ? null : Json(options), cancellationToken)
            .ConfigureAwait(false);
    }

    private static async Task<T> ExchangeAsync<T>(ApiClient client, HttpMethod method, string path, HttpContent? content,
        CancellationToken cancellationToken)
    {
        using var response = await SendAsync(client, method, path, content, cancellationToken).ConfigureAwait(false);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        return await ApiJson.DeserializeAsync<T>(body, cancellationToken).ConfigureAwait(false);
    }

    private static HttpContent Json<T>(T obj)
    {
        var content = new StringContent(ApiJson.Serialize(obj), Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        return content;
    }

    private static string PatchContentType(V1Patch.PatchType type) => type switch
    {
        V1Patch.PatchType.MergePatch => "application/merge-patch+json",
        V1Patch.PatchType.JsonPatch => "application/json-patch+json",
        V1Patch.PatchType.StrategicMergePatch => "application/strategic-merge-patch+json",
        V1Patch.PatchType.ApplyPatch => "application/apply-patch+yaml",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown patch type"),
    };

    private static async Task<HttpResponseMessage> SendAsync(ApiClient client, HttpMethod method, string pathAndQuery, HttpContent? content,
        CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(method, new Uri(client.BaseUri, pathAndQuery.TrimStart('/')))
        {
            Version = client.Http2 ? HttpVersion.Version20 : HttpVersion.Version11,
            VersionPolicy = client.Http2 ? HttpVersionPolicy.RequestVersionOrLower : HttpVersionPolicy.RequestVersionExact,
            Content = content,
        };
        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request, cancellationToken).ConfigureAwait(false);
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

    /// <summary>One path segment (a name or a namespace), escaped.</summary>
    public static string Segment(string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(value);
        return Uri.EscapeDataString(value);
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
