using System.Text.Json.Nodes;
using Trellis.Local.Namespaces;
using Trellis.Local.Topology;
using Trellis.Netlink;

namespace Trellis.Local.Pods;

/// <summary>What a kubelet asks of the runtime for one pod.</summary>
/// <param name="CapabilityArgs">libcni capability arguments (portMappings from containerPorts with a hostPort), or null.</param>
public sealed record SandboxRequest(string PodNamespace, string PodName, string PodUid, bool HostNetwork, JsonObject? CapabilityArgs);

/// <summary>A sandbox that could not be made; the runtime has already removed what it made of it.</summary>
public sealed class SandboxStartException(string sandboxId, string message, Exception? inner = null) : Exception(message, inner)
{
    public string SandboxId { get; } = sandboxId;
}

/// <summary>
/// The part of containerd a kubelet uses for networking: RunPodSandbox (a record, a network
/// namespace, the node's conflist ADD with a fresh sandbox ID) and StopPodSandbox (DEL with the
/// cached result, the namespace removed, the record forgotten). Every step is written down before
/// it is taken, so a sandbox interrupted anywhere is found and torn down after a crash.
/// </summary>
public sealed class PodSandboxRuntime(SandboxStore store, CniRuntime cni, string conflistPath, string prefix, TimeProvider? time = null)
{
    public const string InterfaceName = "eth0";

    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public IReadOnlyList<SandboxRecord> List() => store.All();

    /// <summary>True while the sandbox's namespace is there (always, for a hostNetwork sandbox).</summary>
    public static bool NamespaceExists(SandboxRecord record) => record.NetnsName is null || NamedNetworkNamespace.Exists(record.NetnsName);

    public async Task<SandboxRecord> StartAsync(SandboxRequest request, CancellationToken ct)
    {
        var id = SandboxIds.New();
        var record = new SandboxRecord
        {
            Id = id,
            PodNamespace = request.PodNamespace,
            PodName = request.PodName,
            PodUid = request.PodUid,
            State = SandboxState.Creating,
            CapabilityArgs = request.CapabilityArgs?.ToJsonString(),
            CreatedAt = _time.GetUtcNow(),
        };
        if (request.HostNetwork)
        {
            record = record with { State = SandboxState.Ready };
            store.Write(record);
            return record;
        }
        // A kubelet starts no pod while the network plugin has written no configuration (NetworkReady=false).
        if (!File.Exists(conflistPath))
            throw new SandboxStartException(id, $"network is not ready: no CNI configuration {conflistPath}");

        record = record with { NetnsName = SandboxNames.Preferred(prefix, request.PodNamespace, request.PodName) };
        store.Write(record);
        try
        {
            TopologyBuilder.BuildPodNamespace(record.NetnsName);
        }
        catch (IOException) when (NamedNetworkNamespace.Exists(record.NetnsName))
        {
            record = record with { NetnsName = SandboxNames.Unique(prefix, request.PodNamespace, request.PodName, id) };
            store.Write(record);
            TopologyBuilder.BuildPodNamespace(record.NetnsName);
        }

        JsonObject result;
        try
        {
            result = await cni.AddAsync(conflistPath, Attachment(record), ct);
        }
        catch (CniInvocationException e)
        {
            // As containerd does after a failed setup: DEL (which frees whatever ADD reserved) and remove the namespace.
            try { await StopAsync(record, ct); }
            catch (CniInvocationException) { /* the record stays Creating: the next pass tears it down again */ }
            throw new SandboxStartException(id, $"failed to set up network for sandbox \"{id[..12]}\": {e.Message}", e);
        }
        record = record with { State = SandboxState.Ready, Result = result.ToJsonString() };
        store.Write(record);
        return record;
    }

    public async Task StopAsync(SandboxRecord record, CancellationToken ct)
    {
        if (record.NetnsName is not null)
        {
            var previous = record.Result is null ? null : JsonNode.Parse(record.Result) as JsonObject;
            await cni.DeleteAsync(conflistPath, Attachment(record), previous, ct);
            NamedNetworkNamespace.Delete(record.NetnsName);
        }
        store.Delete(record.Id);
    }

    /// <summary>The pod's addresses from the ADD result (the "ips" a runtime reports as the pod IPs).</summary>
    public static IReadOnlyList<string> AddressesOf(SandboxRecord record) =>
        record.Result is null
            ? []
            : (JsonNode.Parse(record.Result)?["ips"] as JsonArray ?? [])
                .Select(ip => ip?["address"]?.GetValue<string>()?.Split('/')[0]).OfType<string>().ToList();

    private static PodAttachment Attachment(SandboxRecord record) => new(
        record.Id, NamedNetworkNamespace.PathOf(record.NetnsName!), InterfaceName,
        CniRuntime.KubernetesArgs(record.PodNamespace, record.PodName, record.Id, record.PodUid),
        record.CapabilityArgs is null ? null : JsonNode.Parse(record.CapabilityArgs) as JsonObject);
}
