using System.Net;
using k8s.Models;

namespace Trellis.NetworkPolicy.Facts;

/// <summary>
/// Everything a node's policy table depends on, parsed once: the policies, the labels of every
/// namespace, and the pods a policy can select or allow. Problems name the object and field.
/// </summary>
public sealed record PolicyInputs(
    IReadOnlyList<PolicyFacts> Policies,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> NamespaceLabels,
    IReadOnlyList<PodFacts> Pods,
    IReadOnlyList<string> Problems)
{
    /// <summary>The label the control plane puts on every namespace, holding its name.</summary>
    public const string NamespaceNameLabel = "kubernetes.io/metadata.name";

    public static PolicyInputs Parse(IEnumerable<V1NetworkPolicy> policies, IEnumerable<V1Namespace> namespaces, IEnumerable<V1Pod> pods)
    {
        var problems = new List<string>();
        var parsedPolicies = policies
            .Where(p => p.Metadata?.DeletionTimestamp is null)
            .OrderBy(p => p.Metadata?.NamespaceProperty, StringComparer.Ordinal)
            .ThenBy(p => p.Metadata?.Name, StringComparer.Ordinal)
            .Select(p => PolicyParser.Parse(p, problems))
            .ToList();
        var labels = new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal);
        foreach (var ns in namespaces)
            if (ns.Metadata?.Name is { } name)
                labels[name] = WithNameLabel(name, ns.Metadata.Labels);
        var parsedPods = new List<PodFacts>();
        foreach (var pod in pods.OrderBy(p => p.Metadata?.NamespaceProperty, StringComparer.Ordinal).ThenBy(p => p.Metadata?.Name, StringComparer.Ordinal))
            if (ParsePod(pod, problems) is { } facts)
                parsedPods.Add(facts);
        return new PolicyInputs(parsedPolicies, labels, parsedPods, problems);
    }

    /// <summary>
    /// The labels of <paramref name="ns"/>; a namespace not (yet) seen still carries its name label,
    /// which the control plane guarantees.
    /// </summary>
    public IReadOnlyDictionary<string, string> LabelsOf(string ns) =>
        NamespaceLabels.TryGetValue(ns, out var labels) ? labels : WithNameLabel(ns, null);

    public static IReadOnlyDictionary<string, string> WithNameLabel(string ns, IDictionary<string, string>? labels)
    {
        var all = new Dictionary<string, string>(labels ?? new Dictionary<string, string>(), StringComparer.Ordinal)
        {
            [NamespaceNameLabel] = ns,
        };
        return all;
    }

    /// <summary>
    /// Host-networked pods share the node's address and finished pods may have given theirs to a new
    /// pod; neither is a pod-network endpoint a policy can select or allow.
    /// </summary>
    private static PodFacts? ParsePod(V1Pod pod, ICollection<string> problems)
    {
        if (pod.Spec?.HostNetwork == true) return null;
        if (pod.Status?.Phase is "Succeeded" or "Failed") return null;
        if (string.IsNullOrEmpty(pod.Spec?.NodeName)) return null;
        var ns = pod.Metadata?.NamespaceProperty ?? "default";
        var name = pod.Metadata?.Name ?? "(unnamed)";

        var texts = pod.Status?.PodIPs?.Select(p => p.Ip).ToList() ?? [];
        if (texts.Count == 0 && pod.Status?.PodIP is { } single) texts.Add(single);
        var addresses = new List<IPAddress>();
        foreach (var text in texts)
        {
            if (IPAddress.TryParse(text, out var address) && !text.Contains('/') && !address.IsIPv4MappedToIPv6)
            {
                if (!addresses.Contains(address)) addresses.Add(address);
            }
            else
                problems.Add($"Pod {ns}/{name}: status.podIPs: \"{text}\" is not an IP address; ignored");
        }
        if (addresses.Count == 0) return null;

        var named = new List<NamedContainerPort>();
        foreach (var container in pod.Spec!.Containers ?? [])
            foreach (var port in container.Ports ?? [])
            {
                if (string.IsNullOrEmpty(port.Name)) continue;
                if (!TransportProtocols.TryParse(port.Protocol, out var protocol) || port.ContainerPort is < 1 or > 65_535)
                {
                    problems.Add($"Pod {ns}/{name}: container {container.Name} port {port.Name}: protocol \"{port.Protocol}\" or number {port.ContainerPort} is invalid; ignored");
                    continue;
                }
                named.Add(new NamedContainerPort(port.Name, protocol, port.ContainerPort));
            }
        var labels = new Dictionary<string, string>(pod.Metadata?.Labels ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        return new PodFacts(ns, name, labels, pod.Spec.NodeName!, addresses, named);
    }
}
