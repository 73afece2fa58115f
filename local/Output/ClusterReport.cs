using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using k8s;
using Trellis.Crds;
using Trellis.Local.Cluster;
using Trellis.Local.Connectivity;
using Trellis.Local.Namespaces;

namespace Trellis.Local.Output;

/// <summary>What a running local cluster looks like: its API objects as kubectl shows them, and who reaches whom.</summary>
public sealed record ClusterReport(string Text, ConnectivityResult Connectivity, JsonObject Json)
{
    public static async Task<ClusterReport> BuildAsync(StateStore store, CancellationToken ct)
    {
        var state = store.Load() ?? throw new LocalClusterException($"no local cluster is up (no state in {store.Directory})");
        var server = state.ApiServer ?? throw new LocalClusterException("the local cluster has no API server address recorded");
        var config = KubernetesClientConfiguration.BuildConfigFromConfigFile(store.KubeconfigPath);
        using var http = new HttpClient(Trellis.ApiServer.Transport.ServingCertificates.TrustingHandler(config.SslCaCerts![0])) { BaseAddress = new Uri(server) };
        http.DefaultRequestHeaders.Authorization = new("Bearer", config.AccessToken);
        using var client = new Kubernetes(config);

        var text = new StringBuilder();
        text.AppendLine();
        text.AppendLine("$ kubectl get podnetworks");
        text.Append(await KubectlTable.RenderAsync(http, $"/apis/{TrellisApi.Group}/{TrellisApi.Version}/{PodNetwork.Plural}", ct));
        text.AppendLine();
        text.AppendLine("$ kubectl get nodesubnets");
        text.Append(await KubectlTable.RenderAsync(http, $"/apis/{TrellisApi.Group}/{TrellisApi.Version}/{NodeSubnet.Plural}", ct));
        text.AppendLine();

        var pods = state.Nodes.SelectMany(n => n.Pods.Select(p => new PodEndpoint(
            p.Name, n.Name, NamedNetworkNamespace.PathOf(p.Namespace), p.Addresses.Select(IPAddress.Parse).ToList()))).ToList();
        var connectivity = ConnectivityMatrix.Measure(pods, TimeSpan.FromSeconds(1));
        text.AppendLine($"pod × pod connectivity ({pods.Count} pods on {state.Nodes.Count} nodes, ICMP echo from each pod's namespace):");
        text.Append(MatrixPrinter.Render(connectivity));

        var subnets = (await client.CustomObjects.ListClusterCustomObjectAsync<NodeSubnetList>(TrellisApi.Group, TrellisApi.Version, NodeSubnet.Plural, cancellationToken: ct)).Items;
        var nodes = new JsonArray(state.Nodes.OrderBy(n => n.Ordinal).Select(n => (JsonNode)new JsonObject
        {
            ["name"] = n.Name,
            ["namespace"] = n.Namespace,
            ["addresses"] = new JsonArray(subnets.Where(s => s.Spec.NodeName == n.Name).SelectMany(s => s.Spec.NodeAddresses).Distinct().Select(a => (JsonNode)a).ToArray()),
            ["blocks"] = new JsonArray(subnets.Where(s => s.Spec.NodeName == n.Name).SelectMany(s => s.Spec.Cidrs).Select(c => (JsonNode)c).ToArray()),
        }).ToArray());
        var json = new JsonObject
        {
            ["nodes"] = nodes,
            ["pods"] = new JsonArray(pods.Select(p => (JsonNode)new JsonObject
            {
                ["name"] = p.Name,
                ["node"] = p.Node,
                ["addresses"] = new JsonArray(p.Addresses.Select(a => (JsonNode)a.ToString()).ToArray()),
            }).ToArray()),
            ["matrix"] = new JsonObject
            {
                ["pairs"] = connectivity.Pairs,
                ["reachable"] = connectivity.ReachableCount,
                ["unreachable"] = connectivity.UnreachableCount,
                ["failures"] = new JsonArray(connectivity.Failures.Select(f => (JsonNode)new JsonObject
                {
                    ["from"] = f.From, ["to"] = f.To, ["address"] = f.Address,
                }).ToArray()),
            },
        };
        return new ClusterReport(text.ToString(), connectivity, json);
    }
}
