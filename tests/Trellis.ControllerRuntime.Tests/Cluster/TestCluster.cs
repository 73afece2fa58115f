using k8s;
using k8s.Autorest;
using k8s.Models;
using Trellis.ApiServer;
using Trellis.ControllerRuntime.Clients;
using Xunit;

namespace Trellis.ControllerRuntime.Tests.Cluster;

/// <summary>A fresh in-process API server and a client for it; each test gets its own, so breaking or compacting one touches no other test.</summary>
public sealed class TestCluster : IAsyncDisposable
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private TestCluster(KubeApiServer server)
    {
        Server = server;
        var config = new KubernetesClientConfiguration { Host = server.BaseAddress.ToString(), AccessToken = server.AdminToken, SslCaCerts = [server.CertificateAuthority] };
        Client = new Kubernetes(config);
        Api = ApiClient.Connect(config);
    }

    public KubeApiServer Server { get; }
    /// <summary>KubernetesClient, for what the tests do to the cluster.</summary>
    public Kubernetes Client { get; }

    /// <summary>The same server and credentials through Trellis' own client, as the operator and the agent reach it.</summary>
    public ApiClient Api { get; }

    public static async Task<TestCluster> StartAsync(TimeSpan? bookmarkInterval = null) =>
        new(await KubeApiServer.StartAsync(new KubeApiServerOptions { BookmarkInterval = bookmarkInterval ?? TimeSpan.FromSeconds(5) }));

    public Task<V1Node> CreateNodeAsync(string name, IDictionary<string, string>? labels = null) =>
        Client.CoreV1.CreateNodeAsync(new V1Node
        {
            ApiVersion = "v1",
            Kind = "Node",
            Metadata = new V1ObjectMeta { Name = name, Labels = labels },
        });

    public async Task<V1Node> LabelNodeAsync(string name, string key, string value)
    {
        var node = await Client.CoreV1.ReadNodeAsync(name);
        node.Metadata.Labels ??= new Dictionary<string, string>();
        node.Metadata.Labels[key] = value;
        return await Client.CoreV1.ReplaceNodeAsync(node, name);
    }

    /// <summary>Registers the tests' Widget CRD and waits until the server serves it.</summary>
    public async Task RegisterWidgetsAsync()
    {
        await Client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(Widget.Definition());
        await Eventually(async () =>
        {
            try
            {
                await Client.CustomObjects.ListClusterCustomObjectAsync(Widget.Group, Widget.Version, Widget.Plural);
                return true;
            }
            catch (HttpOperationException)
            {
                return false;
            }
        }, "the widget CRD is served");
    }

    public Task<Widget> CreateWidgetAsync(string name, int size) =>
        Client.CustomObjects.CreateClusterCustomObjectAsync<Widget>(
            new Widget { Metadata = new V1ObjectMeta { Name = name }, Spec = new WidgetSpec { Size = size } },
            Widget.Group, Widget.Version, Widget.Plural);

    public static Task Eventually(Func<bool> condition, string what) => Eventually(() => Task.FromResult(condition()), what);

    public static async Task Eventually(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        Api.Dispose();
        await Server.DisposeAsync();
    }
}
