using Prometheus;

namespace Trellis.ControllerRuntime.Metrics;

/// <summary>
/// Counts every write a process makes to the API server (create, update, patch, delete), by verb, resource and
/// answer: a handler on the Kubernetes client's HTTP pipeline, so no call site can forget it. Reads and watches
/// are not counted.
/// </summary>
public sealed class ApiWriteCounting(Counter writes) : DelegatingHandler
{
    public static Counter Create(IMetricFactory factory) => factory.CreateCounter("trellis_api_writes_total",
        "Writes to the Kubernetes API by verb, resource (with subresource) and HTTP status code (\"error\" when no answer came).",
        new CounterConfiguration { LabelNames = ["verb", "resource", "code"] });

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var verb = Verb(request.Method);
        if (verb is null) return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var resource = Resource(request.RequestUri?.AbsolutePath ?? "");
        try
        {
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            writes.WithLabels(verb, resource, ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture)).Inc();
            return response;
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            writes.WithLabels(verb, resource, "error").Inc();
            throw;
        }
    }

    private static string? Verb(HttpMethod method) =>
        method == HttpMethod.Post ? "create" : method == HttpMethod.Put ? "update" : method == HttpMethod.Patch ? "patch" : method == HttpMethod.Delete ? "delete" : null;

    /// <summary>"/apis/trellis.io/v1alpha1/nodesubnets/a.b/status" → "nodesubnets/status"; "/api/v1/namespaces/x/events" → "events".</summary>
    public static string Resource(string path)
    {
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        int at = segments.Length > 0 && segments[0] == "api" ? 2 : segments.Length > 0 && segments[0] == "apis" ? 3 : 0;
        if (at + 2 < segments.Length && segments[at] == "namespaces") at += 2;
        if (at >= segments.Length) return "unknown";
        return at + 2 < segments.Length ? $"{segments[at]}/{segments[at + 2]}" : segments[at];
    }
}
