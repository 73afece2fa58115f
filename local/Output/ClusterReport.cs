using Trellis.ControllerRuntime.Clients;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using k8s;
using Trellis.Crds;
using Trellis.Local.Cluster;
using Trellis.Local.Connectivity;
using Trellis.Local.Pods;

namespace Trellis.Local.Output;

/// <summary>What a running local cluster looks like: its API objects as kubectl shows them, and who reaches whom.</summary>
public sealed record ClusterReport(string Text, ConnectivityResult Connectivity, JsonObject Json, IReadOnlyList<PortMatrixResult> PortMatrices)
{
    /// <summary>True when every pod reaches every other (ICMP) and answers on every port probed.</summary>
    public bool Complete => Connectivity.Complete && PortMatrices.All(m => m.PassedCount == m.Probed);

    /// <param name="ports">Which declared ports to probe pod × pod (given all declared ones); null for none.</param>
    public static async Task<ClusterReport> BuildAsync(StateStore store, CancellationToken ct,
        Func<IReadOnlyList<ServedPort>, IEnumerable<ServedPort>>? ports = null)
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
        text.Append(await KubectlTable.RenderAsync(http, CustomResourceClient<PodNetwork>.CollectionPath, ct));
        text.AppendLine();
        text.AppendLine("$ kubectl get nodesubnets");
        text.Append(await KubectlTable.RenderAsync(http, CustomResourceClient<NodeSubnet>.CollectionPath, ct));
        text.AppendLine();
        if (state.Router is { } router)
        {
            text.AppendLine($"$ {(router == Routing.UnderlayRouter.Frr ? "vtysh -c 'show bgp summary' -c 'show bgp ipv4 unicast' -c 'show bgp ipv6 unicast'" : "birdc show route all")}   (the underlay router)");
            text.Append(Routing.UnderlayRouter.Table(router, Cluster.LocalCluster.RouterDirectoryOf(store), $"{state.Prefix}-underlay"));
            text.AppendLine();
        }
        text.AppendLine("$ kubectl get pods -A -o wide");
        text.Append(await KubectlTable.RenderAsync(http, "/api/v1/pods", ct, wide: true, allNamespaces: true));
        text.AppendLine();

        var pods = await ClusterPods.ListAsync(client, ct);
        var connectivity = ConnectivityMatrix.Measure(pods, TimeSpan.FromSeconds(1));
        text.AppendLine($"pod × pod connectivity ({pods.Count} pods on {pods.Select(p => p.Node).Distinct().Count()} nodes, ICMP echo from each pod's namespace):");
        text.Append(MatrixPrinter.Render(connectivity));

        var portMatrices = new List<PortMatrixResult>();
        foreach (var port in ports?.Invoke(PortMatrix.DeclaredPorts(pods)) ?? [])
        {
            var matrix = await PortMatrix.MeasureAsync(pods, port, PodProbe.DefaultTimeout, ct);
            portMatrices.Add(matrix);
            text.AppendLine();
            text.AppendLine($"pod × pod on {port} (each pod's server answers with its namespace/name):");
            text.Append(MatrixPrinter.Render(matrix));
        }

        var subnets = await new CustomResourceClient<NodeSubnet>(ApiClient.Over(client)).ListAsync(cancellationToken: ct);
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
                ["namespace"] = p.Namespace,
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
        if (portMatrices.Count > 0)
            json["ports"] = new JsonArray(portMatrices.Select(m => (JsonNode)new JsonObject
            {
                ["port"] = m.Port.Port,
                ["protocol"] = m.Port.Protocol,
                ["probed"] = m.Probed,
                ["answered"] = m.PassedCount,
            }).ToArray());
        return new ClusterReport(text.ToString(), connectivity, json, portMatrices);
    }
}
