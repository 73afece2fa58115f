using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Trellis.ApiServer.Storage;

namespace Trellis.ApiServer.Pods;

/// <summary>
/// What kube-apiserver's pod strategy does that a kubelet and a scheduler rely on: defaults and a
/// fresh Pending status on create, the checks that keep a pod runnable (containers, ports,
/// protocols), a spec that updates may not change (only images and a few fields), and the grace
/// period a DELETE starts. Pure: JSON in, JSON out or an <see cref="ApiError"/>.
/// </summary>
public static partial class PodStrategy
{
    public static readonly IReadOnlyList<string> Protocols = ["SCTP", "TCP", "UDP"];

    private const string UpdateForbidden =
        "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

    /// <summary>On create: defaults, validation, and the status a new pod has (whatever the client sent).</summary>
    public static void PrepareForCreate(JsonObject pod)
    {
        var name = NameOf(pod);
        ApplyDefaults(pod, name);
        Validate(pod, name);
        pod["status"] = new JsonObject { ["phase"] = "Pending", ["qosClass"] = QosClass((JsonObject)pod["spec"]!) };
    }

    /// <summary>On update of the pod itself: defaults, validation, and a spec that only changes where Kubernetes allows it.</summary>
    public static void PrepareForUpdate(JsonObject before, JsonObject pod)
    {
        var name = NameOf(pod);
        ApplyDefaults(pod, name);
        Validate(pod, name);
        if (!JsonNode.DeepEquals(Mutable(before["spec"]), Mutable(pod["spec"])))
            throw Invalid(name, "FieldValueForbidden", $"Forbidden: {UpdateForbidden}", "spec");
    }

    /// <summary>On update of pods/status: the addresses a kubelet reports must be addresses, the first of podIPs the podIP.</summary>
    public static void ValidateStatus(JsonObject pod)
    {
        var name = NameOf(pod);
        if (pod["status"] is not JsonObject status) return;
        var podIp = String(status, "podIP", name, "status.podIP");
        if (podIp is { Length: > 0 } && !IPAddress.TryParse(podIp, out _))
            throw Invalid(name, "FieldValueInvalid", $"Invalid value: \"{podIp}\": must be a valid IP address", "status.podIP");
        var podIps = Array(status, "podIPs", name, "status.podIPs");
        for (int i = 0; i < podIps.Count; i++)
        {
            var ip = podIps[i] is JsonObject entry ? String(entry, "ip", name, $"status.podIPs[{i}].ip") : null;
            if (ip is null || !IPAddress.TryParse(ip, out _))
                throw Invalid(name, "FieldValueInvalid", $"Invalid value: \"{ip}\": must be a valid IP address", $"status.podIPs[{i}].ip");
        }
        if (podIps.Count > 0 && podIps[0]?["ip"]?.GetValue<string>() != podIp)
            throw Invalid(name, "FieldValueInvalid", $"Invalid value: \"{podIp}\": must be the first of status.podIPs", "status.podIP");
    }

    /// <summary>
    /// The grace period of a first DELETE: the one asked for, else spec.terminationGracePeriodSeconds;
    /// 0 for a pod no node runs (unbound, or finished), which nothing would ever delete for good.
    /// </summary>
    public static long GracePeriod(JsonObject pod, long? requested)
    {
        long period = requested ?? AsInteger(pod["spec"]?["terminationGracePeriodSeconds"]) ?? 0;
        if (string.IsNullOrEmpty(pod["spec"]?["nodeName"]?.GetValue<string>())) period = 0;
        if (pod["status"]?["phase"]?.GetValue<string>() is "Succeeded" or "Failed") period = 0;
        return period;
    }

    private static void ApplyDefaults(JsonObject pod, string name)
    {
        if (pod["spec"] is not JsonObject spec) throw Invalid(name, "FieldValueRequired", "Required value", "spec");
        spec["restartPolicy"] ??= "Always";
        spec["terminationGracePeriodSeconds"] ??= 30;
        spec["dnsPolicy"] ??= "ClusterFirst";
        spec["schedulerName"] ??= "default-scheduler";
        spec["securityContext"] ??= new JsonObject();
        spec["enableServiceLinks"] ??= true;
        var hostNetwork = spec["hostNetwork"] is JsonValue flag && flag.GetValueKind() == JsonValueKind.True;
        foreach (var (container, _) in Containers(spec, name))
        {
            container["terminationMessagePath"] ??= "/dev/termination-log";
            container["terminationMessagePolicy"] ??= "File";
            container["resources"] ??= new JsonObject();
            if (container["imagePullPolicy"] is null && container["image"] is JsonValue image && image.GetValueKind() == JsonValueKind.String)
                container["imagePullPolicy"] = ImageTag(image.GetValue<string>()) is null or "latest" ? "Always" : "IfNotPresent";
            if (container["ports"] is not JsonArray ports) continue;
            foreach (var port in ports.OfType<JsonObject>())
            {
                port["protocol"] ??= "TCP";
                if (hostNetwork && port["hostPort"] is null && port["containerPort"] is { } containerPort) port["hostPort"] = containerPort.DeepClone();
            }
        }
    }

    private static void Validate(JsonObject pod, string name)
    {
        var spec = (JsonObject)pod["spec"]!;
        var containers = Containers(spec, name).ToList();
        if (containers.Count == 0) throw Invalid(name, "FieldValueRequired", "Required value", "spec.containers");
        var hostNetwork = spec["hostNetwork"] is JsonValue flag && flag.GetValueKind() == JsonValueKind.True;
        var containerNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (container, path) in containers)
        {
            var portNames = new HashSet<string>(StringComparer.Ordinal);
            var containerName = String(container, "name", name, $"{path}.name");
            if (string.IsNullOrEmpty(containerName)) throw Invalid(name, "FieldValueRequired", "Required value", $"{path}.name");
            if (containerName.Length > 63 || !DnsLabel().IsMatch(containerName))
                throw Invalid(name, "FieldValueInvalid", $"Invalid value: \"{containerName}\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character", $"{path}.name");
            if (!containerNames.Add(containerName)) throw Invalid(name, "FieldValueDuplicate", $"Duplicate value: \"{containerName}\"", $"{path}.name");
            if (string.IsNullOrEmpty(String(container, "image", name, $"{path}.image"))) throw Invalid(name, "FieldValueRequired", "Required value", $"{path}.image");
            var ports = Array(container, "ports", name, $"{path}.ports");
            for (int j = 0; j < ports.Count; j++)
            {
                var portPath = $"{path}.ports[{j}]";
                if (ports[j] is not JsonObject port) throw Invalid(name, "FieldValueInvalid", "Invalid value: must be an object", portPath);
                var containerPort = Integer(port, "containerPort", name, $"{portPath}.containerPort");
                if (containerPort is not (>= 1 and <= 65535))
                    throw Invalid(name, containerPort is null ? "FieldValueRequired" : "FieldValueInvalid",
                        containerPort is null ? "Required value" : $"Invalid value: {containerPort}: must be between 1 and 65535, inclusive", $"{portPath}.containerPort");
                var hostPort = Integer(port, "hostPort", name, $"{portPath}.hostPort");
                if (hostPort is < 0 or > 65535)
                    throw Invalid(name, "FieldValueInvalid", $"Invalid value: {hostPort}: must be between 0 and 65535, inclusive", $"{portPath}.hostPort");
                if (hostNetwork && hostPort != containerPort)
                    throw Invalid(name, "FieldValueInvalid", $"Invalid value: {hostPort}: must match `containerPort` when `hostNetwork` is true", $"{portPath}.hostPort");
                var protocol = String(port, "protocol", name, $"{portPath}.protocol");
                if (protocol is null || !Protocols.Contains(protocol))
                    throw Invalid(name, "FieldValueNotSupported", $"Unsupported value: \"{protocol}\": supported values: \"SCTP\", \"TCP\", \"UDP\"", $"{portPath}.protocol");
                if (String(port, "name", name, $"{portPath}.name") is { } portName)
                {
                    if (!ServiceName().IsMatch(portName) || portName.Length > 15 || portName.Contains("--") || !portName.Any(char.IsAsciiLetter))
                        throw Invalid(name, "FieldValueInvalid", $"Invalid value: \"{portName}\": must be no more than 15 characters, contain only lowercase letters, digits and '-', at least one letter, and no '--' or '-' at either end (an IANA_SVC_NAME)", $"{portPath}.name");
                    if (!portNames.Add(portName)) throw Invalid(name, "FieldValueDuplicate", $"Duplicate value: \"{portName}\"", $"{portPath}.name");
                }
            }
        }
        if (String(spec, "nodeName", name, "spec.nodeName") is { Length: > 0 } nodeName && (nodeName.Length > 253 || !DnsSubdomain().IsMatch(nodeName)))
            throw Invalid(name, "FieldValueInvalid", $"Invalid value: \"{nodeName}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'", "spec.nodeName");
        if (spec["nodeSelector"] is { } selector)
        {
            if (selector is not JsonObject labels) throw Invalid(name, "FieldValueInvalid", "Invalid value: must be a map of strings", "spec.nodeSelector");
            foreach (var (key, value) in labels)
                if (value is not JsonValue text || text.GetValueKind() != JsonValueKind.String)
                    throw Invalid(name, "FieldValueInvalid", "Invalid value: must be a string", $"spec.nodeSelector.{key}");
        }
        var grace = Integer(spec, "terminationGracePeriodSeconds", name, "spec.terminationGracePeriodSeconds");
        if (grace < 0) throw Invalid(name, "FieldValueInvalid", $"Invalid value: {grace}: must be greater than or equal to 0", "spec.terminationGracePeriodSeconds");
    }

    /// <summary>The spec with what updates may change blanked out, so the rest can be compared.</summary>
    private static JsonNode? Mutable(JsonNode? spec)
    {
        if (spec?.DeepClone() is not JsonObject copy) return spec?.DeepClone();
        copy.Remove("activeDeadlineSeconds");
        copy.Remove("tolerations");
        copy.Remove("terminationGracePeriodSeconds");
        foreach (var list in new[] { "containers", "initContainers" })
            if (copy[list] is JsonArray containers)
                foreach (var container in containers.OfType<JsonObject>()) container.Remove("image");
        return copy;
    }

    private static IEnumerable<(JsonObject Container, string Path)> Containers(JsonObject spec, string name)
    {
        if (spec["containers"] is null) yield break;
        if (spec["containers"] is not JsonArray containers) throw Invalid(name, "FieldValueInvalid", "Invalid value: must be a list", "spec.containers");
        for (int i = 0; i < containers.Count; i++)
            yield return (containers[i] as JsonObject ?? throw Invalid(name, "FieldValueInvalid", "Invalid value: must be an object", $"spec.containers[{i}]"),
                $"spec.containers[{i}]");
    }

    /// <summary>BestEffort without any requests or limits; Guaranteed when every container's cpu and memory limits equal its requests.</summary>
    private static string QosClass(JsonObject spec)
    {
        var resources = (spec["containers"] as JsonArray ?? []).OfType<JsonObject>().Select(c => c["resources"] as JsonObject).ToList();
        bool Any(JsonObject? r) => (r?["requests"] as JsonObject)?.Count > 0 || (r?["limits"] as JsonObject)?.Count > 0;
        if (!resources.Any(Any)) return "BestEffort";
        bool Guaranteed(JsonObject? r) => new[] { "cpu", "memory" }.All(k =>
            r?["limits"]?[k] is { } limit && (r["requests"]?[k] is not { } request || JsonNode.DeepEquals(request, limit)));
        return resources.All(Guaranteed) ? "Guaranteed" : "Burstable";
    }

    private static string? ImageTag(string image)
    {
        var withoutDigest = image.Split('@')[0];
        var lastSlash = withoutDigest.LastIndexOf('/');
        var colon = withoutDigest.LastIndexOf(':');
        return colon > lastSlash ? withoutDigest[(colon + 1)..] : null;
    }

    private static string NameOf(JsonObject pod) =>
        pod["metadata"]?["name"]?.GetValue<string>() is { Length: > 0 } name ? name : pod["metadata"]?["generateName"]?.GetValue<string>() ?? "";

    private static string? String(JsonObject parent, string field, string name, string path) => parent[field] switch
    {
        null => null,
        JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
        _ => throw Invalid(name, "FieldValueInvalid", "Invalid value: must be a string", path),
    };

    private static long? Integer(JsonObject parent, string field, string name, string path) =>
        parent[field] is null ? null : AsInteger(parent[field]) ?? throw Invalid(name, "FieldValueInvalid", "Invalid value: must be an integer", path);

    /// <summary>A JSON integer however the node holds it (parsed text, or a CLR number set in code); null for anything else.</summary>
    private static long? AsInteger(JsonNode? node)
    {
        if (node is not JsonValue value || value.GetValueKind() != JsonValueKind.Number) return null;
        var text = value.ToJsonString();
        if (long.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var integer)) return integer;
        return double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var real)
            && real == Math.Floor(real) && Math.Abs(real) < 1e15 ? (long)real : null;
    }

    private static JsonArray Array(JsonObject parent, string field, string name, string path) => parent[field] switch
    {
        null => [],
        JsonArray array => array,
        _ => throw Invalid(name, "FieldValueInvalid", "Invalid value: must be a list", path),
    };

    private static ApiError Invalid(string name, string reason, string message, string field) =>
        ApiError.Invalid(BuiltInResources.Pods, name, [new StatusCause(reason, message, field)]);

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex DnsLabel();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex DnsSubdomain();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex ServiceName();
}
