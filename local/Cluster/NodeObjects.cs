using k8s;
using k8s.Models;
using Trellis.Local.Topology;

namespace Trellis.Local.Cluster;

/// <summary>The Node object a kubelet would register for a simulated node.</summary>
public static class NodeObjects
{
    public const string SegmentLabel = "trellis.io/underlay-segment";

    public static async Task CreateAsync(IKubernetes client, PlannedNode node, CancellationToken ct)
    {
        var created = await client.CoreV1.CreateNodeAsync(new V1Node
        {
            Metadata = new V1ObjectMeta
            {
                Name = node.Name,
                Labels = new Dictionary<string, string>
                {
                    ["kubernetes.io/hostname"] = node.Name,
                    ["kubernetes.io/os"] = "linux",
                    [SegmentLabel] = node.Segment.BridgeName,
                },
            },
        }, cancellationToken: ct);

        // A kubelet reports addresses and readiness through the status subresource, after registering.
        created.Status = new V1NodeStatus
        {
            Addresses =
            [
                new V1NodeAddress { Type = "InternalIP", Address = node.Address.Address.ToString() },
                new V1NodeAddress { Type = "InternalIP", Address = node.Address6.Address.ToString() },
                new V1NodeAddress { Type = "Hostname", Address = node.Name },
            ],
            Conditions = [new V1NodeCondition { Type = "Ready", Status = "True", Reason = "KubeletReady", Message = "simulated by trellis-local", LastHeartbeatTime = DateTime.UtcNow, LastTransitionTime = DateTime.UtcNow }],
            NodeInfo = new V1NodeSystemInfo
            {
                Architecture = "amd64", OperatingSystem = "linux", KubeletVersion = "v1.32.0-trellis-local", KubeProxyVersion = "",
                BootID = "", ContainerRuntimeVersion = "trellis-local", KernelVersion = Environment.OSVersion.Version.ToString(), MachineID = "", OsImage = "network namespace", SystemUUID = "",
            },
        };
        await client.CoreV1.ReplaceNodeStatusAsync(created, node.Name, cancellationToken: ct);
    }
}
