using Trellis.ControllerRuntime.Clients;
using System.Net.Http;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Trellis.ApiServer;
using Trellis.Crds;
using Trellis.Operator.Hosting;
using Trellis.Testing;

namespace Trellis.Operator.Tests.Cluster;

/// <summary>
/// An in-process API server with the Trellis CRDs from config/crd registered, a client for the
/// test's own reads and writes, and operator replicas started and stopped on demand.
/// </summary>
internal sealed class OperatorCluster : IAsyncDisposable
{
    public const string LeaseNamespace = "trellis-system";
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private readonly List<Replica> _replicas = new();

    private OperatorCluster(KubeApiServer server, IKubernetes client)
    {
        Server = server;
        Client = client;
    }

    public KubeApiServer Server { get; }

    /// <summary>The test's own client (its writes count in the server's metrics too).</summary>
    public IKubernetes Client { get; }

    public CustomResourceClient<PodNetwork> Networks => new(ApiClient.Over(Client));

    public CustomResourceClient<NodeSubnet> Subnets => new(ApiClient.Over(Client));

    /// <param name="registerCrds">False leaves the Trellis CRDs out until <see cref="RegisterCrdsAsync"/>, for a cluster the operator cannot sync with yet.</param>
    public static async Task<OperatorCluster> StartAsync(TimeSpan? bookmarkInterval = null, bool registerCrds = true)
    {
        var server = await KubeApiServer.StartAsync(new KubeApiServerOptions { BookmarkInterval = bookmarkInterval ?? TimeSpan.FromSeconds(1) });
        var client = new Kubernetes(new KubernetesClientConfiguration { Host = server.BaseAddress.ToString(), AccessToken = server.AdminToken, SslCaCerts = [server.CertificateAuthority] });
        var cluster = new OperatorCluster(server, client);
        if (registerCrds) await cluster.RegisterCrdsAsync();
        await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = LeaseNamespace } });
        return cluster;
    }

    /// <summary>Registers the CRDs of config/crd, as <c>kubectl apply -k config/</c> would.</summary>
    public Task RegisterCrdsAsync() => TrellisCrds.RegisterAsync(Client);

    /// <summary>Starts one operator replica with its own client, whose non-read requests are counted.</summary>
    /// <param name="through">Where the replica reaches the API server, when not directly (a <see cref="TcpRelay"/>).</param>
    /// <param name="token">Whose identity the replica has: the admin's unless a token is given (a ServiceAccount's, under config/rbac).</param>
    public Replica StartOperator(OperatorOptions? options = null, string identity = "operator-0", Uri? through = null, string? token = null)
    {
        var counter = new WriteCounter();
        // A relay forwards bytes: through it the client still speaks the server's own scheme (https).
        var host = through is null ? Server.BaseAddress : new UriBuilder(through) { Scheme = Server.BaseAddress.Scheme }.Uri;
        var client = new Kubernetes(new KubernetesClientConfiguration { Host = host.ToString(), AccessToken = token ?? Server.AdminToken, SslCaCerts = [Server.CertificateAuthority] }, counter);
        options ??= new OperatorOptions { LeaderElect = false };
        options = options with
        {
            Identity = identity,
            HealthPort = 0,
            LeaderElectionNamespace = LeaseNamespace,
            ResyncPeriod = TimeSpan.FromMinutes(30),
        };
        var instance = new TrellisOperator(ApiClient.Over(client), options, NullLoggerFactory.Instance);
        var stop = new CancellationTokenSource();
        var replica = new Replica(identity, instance, counter, stop, Task.Run(() => instance.RunAsync(stop.Token)));
        _replicas.Add(replica);
        return replica;
    }

    public async Task StopAsync(Replica replica)
    {
        await replica.Stop.CancelAsync();
        await replica.Running.WaitAsync(DefaultTimeout);
        replica.Stop.Dispose();
        _replicas.Remove(replica);
    }

    public Task<V1Node> CreateNodeAsync(string name, string[] addresses, Dictionary<string, string>? labels = null) =>
        Client.CoreV1.CreateNodeAsync(new V1Node
        {
            Metadata = new V1ObjectMeta { Name = name, Labels = labels ?? new Dictionary<string, string>() },
            Status = new V1NodeStatus
            {
                Addresses = addresses.Select(a => new V1NodeAddress { Address = a, Type = "InternalIP" })
                    .Append(new V1NodeAddress { Address = name, Type = "Hostname" }).ToList(),
            },
        });

    public Task<V1Node> CreateNodeAsync(string name, string address, Dictionary<string, string>? labels = null) =>
        CreateNodeAsync(name, [address], labels);

    public Task DeleteNodeAsync(string name) => Client.CoreV1.DeleteNodeAsync(name);

    public Task<PodNetwork> CreateNetworkAsync(string name, string[] cidrs, V1LabelSelector? selector = null, int ipv4Block = 24, int ipv6Block = 80) =>
        Networks.CreateAsync(new PodNetwork
        {
            Metadata = new V1ObjectMeta { Name = name },
            Spec = new PodNetworkSpec { Cidrs = cidrs.ToList(), NodeSelector = selector, BlockSize = new BlockSize { IPv4 = ipv4Block, IPv6 = ipv6Block } },
        });

    public Task<PodNetwork> GetNetworkAsync(string name) =>
        Networks.GetAsync(name);

    public Task<PodNetwork> ReplaceNetworkAsync(PodNetwork network) =>
        Networks.ReplaceAsync(network);

    /// <summary>
    /// Reads the network, changes it and writes it back; again on a 409 Conflict, when the operator wrote its status in
    /// between (as a user retries kubectl edit).
    /// </summary>
    public async Task<PodNetwork> UpdateNetworkAsync(string name, Action<PodNetwork> change)
    {
        for (int attempt = 1; ; attempt++)
        {
            var network = await GetNetworkAsync(name);
            change(network);
            try
            {
                return await ReplaceNetworkAsync(network);
            }
            catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.Conflict && attempt < 10)
            {
            }
        }
    }

    public async Task<IReadOnlyList<NodeSubnet>> SubnetsAsync(string? network = null)
    {
        var list = await Subnets.ListAsync(labelSelector: network is null ? null : $"{TrellisApi.PodNetworkLabel}={network}");
        return list.OrderBy(s => s.Metadata.Name, StringComparer.Ordinal).ToList();
    }

    /// <summary>Node name → its NodeSubnet's blocks, for one network.</summary>
    public async Task<Dictionary<string, string>> BlocksAsync(string network) =>
        (await SubnetsAsync(network)).ToDictionary(s => s.Spec.NodeName, s => string.Join(",", s.Spec.Cidrs));

    /// <summary>Polls until <paramref name="check"/> holds, failing with <paramref name="what"/> and the last value seen.</summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> check, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        T last;
        while (true)
        {
            last = await read();
            if (check(last)) return last;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"timed out waiting for {what}; last seen: {KubernetesJson.Serialize(last)}");
            await Task.Delay(50);
        }
    }

    public Task<Dictionary<string, string>> BlocksEventuallyAsync(string network, int count) =>
        EventuallyAsync(() => BlocksAsync(network), blocks => blocks.Count == count, $"{count} NodeSubnets of PodNetwork {network}");

    public Task<PodNetwork> ConditionEventuallyAsync(string network, string type, string status, string? reason = null) =>
        EventuallyAsync(() => GetNetworkAsync(network),
            n => n.Status?.Conditions.Any(c => c.Type == type && c.Status == status && (reason is null || c.Reason == reason)) == true,
            $"PodNetwork {network} {type}={status} {reason}");

    public async ValueTask DisposeAsync()
    {
        foreach (var replica in _replicas.ToList())
            await StopAsync(replica);
        await Server.DisposeAsync();
    }

    internal sealed record Replica(string Identity, TrellisOperator Operator, WriteCounter Writes, CancellationTokenSource Stop, Task Running);

    /// <summary>Counts one replica's requests that change something, leases apart.</summary>
    internal sealed class WriteCounter : DelegatingHandler
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _requests = new();

        public int Writes => _requests.Count;

        /// <summary>Method and path of each counted request, for failure messages.</summary>
        public string Describe() => string.Join("; ", _requests);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Method != HttpMethod.Get && request.RequestUri?.AbsolutePath.Contains("/leases") != true)
                _requests.Enqueue($"{request.Method} {request.RequestUri?.AbsolutePath}");
            return base.SendAsync(request, cancellationToken);
        }
    }
}
