using Trellis.Addressing;
using System.Net;
using System.Net.Sockets;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Trellis.Local.Kubelet;
using Trellis.Local.Pods;

namespace Trellis.Local.Connectivity;

/// <summary>A running Pod as the local cluster's tools use it: where to enter it, where to reach it, what it serves.</summary>
/// <param name="NamespacePath">Its sandbox's network namespace (the node's, for a hostNetwork pod).</param>
public sealed record PodEndpoint(string Namespace, string Name, string Node, string NamespacePath, IReadOnlyList<IPAddress> Addresses,
    IReadOnlyList<ServedPort> Ports, bool HostNetwork)
{
    public string Key => $"{Namespace}/{Name}";

    /// <summary>The Pod's endpoint, or why it has none yet (not Running, no address, no sandbox annotation).</summary>
    public static PodEndpoint? From(V1Pod pod, out string? why)
    {
        why = null;
        var key = $"{pod.Metadata.NamespaceProperty}/{pod.Metadata.Name}";
        if (pod.Metadata.DeletionTimestamp is not null) why = $"pod {key} is being deleted";
        else if (pod.Status?.Phase != "Running") why = $"pod {key} is {pod.Status?.Phase ?? "Pending"}, not Running";
        else if (PodStatusReport.Annotation(pod.Metadata, PodStatusReport.NetnsAnnotation) is not { Length: > 0 }) why = $"pod {key} has no {PodStatusReport.NetnsAnnotation} annotation (is it run by trellis-local?)";
        else if ((pod.Status.PodIPs ?? []).Count == 0) why = $"pod {key} has no address";
        else if (!ReportsItsSandbox(pod)) why = $"pod {key} still shows the status of an earlier sandbox";
        if (why is not null) return null;
        return new PodEndpoint(pod.Metadata.NamespaceProperty, pod.Metadata.Name, pod.Spec.NodeName ?? "",
            pod.Metadata.Annotations![PodStatusReport.NetnsAnnotation], pod.Status!.PodIPs!.Select(i => IPAddress.Parse(i.Ip)).ToList(),
            NodeKubelet.DeclaredPorts(pod), pod.Spec.HostNetwork == true);
    }

    /// <summary>
    /// The kubelet writes a new sandbox's annotations and then its status, in two writes: in between, the Pod names the new
    /// namespace beside the old sandbox's addresses. Its container IDs are derived from the sandbox, so they tell which one the status is of.
    /// </summary>
    private static bool ReportsItsSandbox(V1Pod pod) =>
        PodStatusReport.Annotation(pod.Metadata, PodStatusReport.SandboxAnnotation) is not { } sandbox
        || (pod.Status.ContainerStatuses ?? []).All(c => c.ContainerID == PodStatusReport.ContainerId(sandbox, c.Name));
}

/// <summary>Running pods read from the API, for the connectivity matrix, `status --ports` and `probe`.</summary>
public static class ClusterPods
{
    /// <summary>Every running pod on the pod network (hostNetwork pods are the nodes' own addresses), ordered by namespace and name.</summary>
    public static async Task<IReadOnlyList<PodEndpoint>> ListAsync(IKubernetes client, CancellationToken ct, string? labelSelector = null)
    {
        var pods = await client.CoreV1.ListPodForAllNamespacesAsync(labelSelector: labelSelector, cancellationToken: ct);
        return pods.Items.Select(p => PodEndpoint.From(p, out _)).OfType<PodEndpoint>().Where(p => !p.HostNetwork)
            .OrderBy(p => p.Namespace, StringComparer.Ordinal).ThenBy(p => p.Name, StringComparer.Ordinal).ToList();
    }

    /// <param name="key">namespace/name, or a name in the default namespace.</param>
    public static async Task<PodEndpoint> GetAsync(IKubernetes client, string key, CancellationToken ct)
    {
        var (ns, name) = key.Split('/') switch
        {
            [var n] => ("default", n),
            [var s, var n] => (s, n),
            _ => throw new ArgumentException($"\"{key}\" is not namespace/name"),
        };
        V1Pod pod;
        try { pod = await client.CoreV1.ReadNamespacedPodAsync(name, ns, cancellationToken: ct); }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            throw new ArgumentException($"pod {ns}/{name} not found");
        }
        return PodEndpoint.From(pod, out var why) ?? throw new ArgumentException(why);
    }
}

/// <summary>Probes between pods named by their Pods: the reusable form of `trellis-local probe`.</summary>
public static class PodProber
{
    /// <summary>From <paramref name="from"/>'s sandbox to <paramref name="to"/>'s first address of <paramref name="family"/> (its first address when null).</summary>
    public static Task<ProbeResult> ProbeAsync(PodEndpoint from, PodEndpoint to, int port, string protocol, TimeSpan timeout, CancellationToken ct,
        AddressFamily? family = null)
    {
        var address = to.Addresses.FirstOrDefault(a => family is null || a.AddressFamily == family)
            ?? throw new ArgumentException($"pod {to.Key} has no {(family is { } wanted ? IpFamilyName.Of(wanted) + " " : "")}address");
        return PodProbe.ProbeAsync(from.NamespacePath, address, port, protocol, timeout, ct);
    }

    public static async Task<ProbeResult> ProbeAsync(IKubernetes client, string from, string to, int port, string protocol, TimeSpan timeout, CancellationToken ct,
        AddressFamily? family = null) =>
        await ProbeAsync(await ClusterPods.GetAsync(client, from, ct), await ClusterPods.GetAsync(client, to, ct), port, protocol, timeout, ct, family);
}
