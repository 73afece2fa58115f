using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Trellis.ControllerRuntime.Updates;
using Trellis.Crds;
using Trellis.ControllerRuntime.Clients;
using Trellis.Operator.Planning;

namespace Trellis.Operator.Controllers;

/// <summary>The operator's writes to the API server, each one retried on 409 and tolerant of the object being already as wanted.</summary>
public sealed class ClusterWriter(ApiClient client)
{
    private readonly CustomResourceClient<NodeSubnet> _subnets = new(client);
    private readonly CustomResourceClient<PodNetwork> _networks = new(client);

    public async Task<NodeSubnet> CreateAsync(NodeSubnet desired, CancellationToken cancellationToken)
    {
        try
        {
            return await _subnets.CreateAsync(desired, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException error) when (error.Response?.StatusCode == HttpStatusCode.Conflict)
        {
            // Our cache had not yet seen it (or someone made it by hand): make the stored one right instead.
            return await UpdateAsync(null, desired, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Brings the stored NodeSubnet to <paramref name="desired"/>, starting from <paramref name="cached"/> when given and re-reading on conflict.</summary>
    public async Task<NodeSubnet> UpdateAsync(NodeSubnet? cached, NodeSubnet desired, CancellationToken cancellationToken)
    {
        var name = desired.Metadata.Name;
        var first = cached;
        return await ConflictRetry.RetryAsync(async ct =>
        {
            var current = first ?? await _subnets.GetAsync(name, ct).ConfigureAwait(false);
            first = null;
            if (!NodeSubnetPlanner.NeedsUpdate(current, desired)) return current;
            var updated = NodeSubnetPlanner.ApplyTo(ApiJson.Clone(current), desired);
            return await _subnets.ReplaceAsync(updated, ct).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The PodNetwork as stored now (not as a cache last heard); null when it is gone.</summary>
    public async Task<PodNetwork?> ReadNetworkAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            return await _networks.GetAsync(name, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException error) when (error.Response?.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>Deletes a NodeSubnet; one already gone counts as deleted.</summary>
    public async Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            await _subnets.DeleteAsync(name, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException error) when (error.Response?.StatusCode == HttpStatusCode.NotFound)
        {
        }
    }

    /// <summary>Writes a PodNetwork's status through the status subresource, re-reading on conflict; skips the write when already as wanted.</summary>
    public Task<PodNetwork> WriteStatusAsync(PodNetwork cached, Func<PodNetwork, PodNetworkStatus?> plan, CancellationToken cancellationToken)
    {
        var name = cached.Metadata.Name;
        PodNetwork? first = cached;
        return ConflictRetry.RetryAsync(async ct =>
        {
            var current = first ?? await _networks.GetAsync(name, ct).ConfigureAwait(false);
            first = null;
            var status = plan(current);
            if (status is null) return current;
            var updated = ApiJson.Clone(current);
            updated.Status = status;
            return await _networks.ReplaceStatusAsync(updated, ct).ConfigureAwait(false);
        }, cancellationToken);
    }

    /// <summary>Sets Node.spec.podCIDR(s) when both are empty; Kubernetes refuses to change them once set, and so do we.</summary>
    public Task<V1Node> SetPodCidrsAsync(V1Node node, IReadOnlyList<string> cidrs, CancellationToken cancellationToken)
    {
        var patch = new V1Patch(ApiJson.Serialize(new Dictionary<string, object>
        {
            ["spec"] = new Dictionary<string, object> { ["podCIDR"] = cidrs[0], ["podCIDRs"] = cidrs },
        }), V1Patch.PatchType.MergePatch);
        return ApiHttp.PatchAsync<V1Node>(client, $"/api/v1/nodes/{ApiHttp.Segment(node.Metadata.Name)}", patch, cancellationToken);
    }

}
