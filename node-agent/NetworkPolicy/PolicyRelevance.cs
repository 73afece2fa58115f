using System.Text;
using k8s.Models;
using Trellis.ControllerRuntime.Clients;

namespace Trellis.NodeAgent.NetworkPolicy;

/// <summary>
/// What of a Pod, Namespace or NetworkPolicy the policy tables depend on, as one comparable text.
/// Kubelets rewrite pod status often (conditions, timestamps); only a change in this text is
/// worth a compile.
/// </summary>
public static class PolicyRelevance
{
    public static string Of(V1Pod pod)
    {
        var text = new StringBuilder();
        text.Append(pod.Spec?.NodeName).Append('|').Append(pod.Spec?.HostNetwork == true).Append('|')
            .Append(pod.Status?.Phase is "Succeeded" or "Failed").Append('|').Append(pod.Status?.PodIP).Append('|');
        foreach (var ip in pod.Status?.PodIPs ?? []) text.Append(ip.Ip).Append(',');
        text.Append('|');
        AppendLabels(text, pod.Metadata?.Labels);
        foreach (var container in pod.Spec?.Containers ?? [])
            foreach (var port in container.Ports ?? [])
                if (!string.IsNullOrEmpty(port.Name))
                    text.Append(port.Name).Append('/').Append(port.Protocol).Append('/').Append(port.ContainerPort).Append(',');
        return text.ToString();
    }

    public static string Of(V1Namespace ns)
    {
        var text = new StringBuilder();
        AppendLabels(text, ns.Metadata?.Labels);
        return text.ToString();
    }

    public static string Of(V1NetworkPolicy policy) =>
        $"{policy.Metadata?.DeletionTimestamp}|{ApiJson.Serialize(policy.Spec)}";

    private static void AppendLabels(StringBuilder text, IDictionary<string, string>? labels)
    {
        foreach (var (key, value) in (labels ?? new Dictionary<string, string>()).OrderBy(l => l.Key, StringComparer.Ordinal))
            text.Append(key).Append('=').Append(value).Append(';');
        text.Append('|');
    }
}
