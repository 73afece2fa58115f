using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using k8s;
using Trellis.ApiServer;

namespace Trellis.ApiServer.Tests.Server;

/// <summary>A started server, a KubernetesClient and a raw HttpClient for one test; disposing stops all three.</summary>
public sealed class TestServer : IAsyncDisposable
{
    private TestServer(KubeApiServer server)
    {
        Server = server;
        Client = new Kubernetes(new KubernetesClientConfiguration { Host = server.BaseAddress.ToString(), AccessToken = server.AdminToken, SslCaCerts = [server.CertificateAuthority] });
        Http = new HttpClient(server.CreateTrustingHandler()) { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", server.AdminToken);
    }

    public KubeApiServer Server { get; }
    public Kubernetes Client { get; }
    public HttpClient Http { get; }

    public static async Task<TestServer> StartAsync(KubeApiServerOptions? options = null) =>
        new(await KubeApiServer.StartAsync(options ?? new KubeApiServerOptions { BookmarkInterval = TimeSpan.FromMilliseconds(300) }));

    public async Task<(int Code, JsonNode? Body)> SendAsync(HttpMethod method, string path, string? body = null, string contentType = "application/json", string? accept = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue(contentType));
        if (accept is not null) request.Headers.TryAddWithoutValidation("Accept", accept);
        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length > 0 && text.TrimStart().StartsWith('{') ? JsonNode.Parse(text) : JsonValue.Create(text));
    }

    public const string WidgetCrd = """
        {
          "apiVersion": "apiextensions.k8s.io/v1",
          "kind": "CustomResourceDefinition",
          "metadata": { "name": "widgets.test.trellis.io" },
          "spec": {
            "group": "test.trellis.io",
            "scope": "Namespaced",
            "names": { "plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList", "shortNames": ["wd"], "categories": ["all"] },
            "versions": [{
              "name": "v1", "served": true, "storage": true,
              "subresources": { "status": {} },
              "additionalPrinterColumns": [
                { "name": "Size", "type": "integer", "jsonPath": ".spec.size" },
                { "name": "Color", "type": "string", "jsonPath": ".spec.color" },
                { "name": "Tags", "type": "string", "jsonPath": ".spec.tags" },
                { "name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status" },
                { "name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp" }
              ],
              "schema": { "openAPIV3Schema": {
                "type": "object",
                "properties": {
                  "spec": {
                    "type": "object",
                    "required": ["size"],
                    "properties": {
                      "size": { "type": "integer", "minimum": 1, "maximum": 10 },
                      "color": { "type": "string", "enum": ["red", "blue"], "default": "red" },
                      "tags": { "type": "array", "maxItems": 3, "items": { "type": "string", "pattern": "^[a-z]+$" } }
                    }
                  },
                  "status": {
                    "type": "object",
                    "properties": {
                      "observedGeneration": { "type": "integer" },
                      "conditions": { "type": "array", "items": { "type": "object", "x-kubernetes-preserve-unknown-fields": true } }
                    }
                  }
                }
              } }
            }]
          }
        }
        """;

    public async Task InstallWidgetCrdAsync()
    {
        var (code, body) = await SendAsync(HttpMethod.Post, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", WidgetCrd);
        if (code != 201) throw new InvalidOperationException($"creating the widget CRD answered {code}: {body}");
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        Client.Dispose();
        await Server.DisposeAsync();
    }
}
