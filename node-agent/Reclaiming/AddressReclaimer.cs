using System.Net;
using System.Threading.Channels;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Trellis.ControllerRuntime.Clients;
using Trellis.ControllerRuntime.Informers;
using Trellis.Ipam;
using Trellis.Netlink;

namespace Trellis.NodeAgent.Reclaiming;

/// <summary>
/// Frees the addresses of pods that are gone (the leaks a reboot or a missed DEL leaves): the I/O
/// edge of <see cref="ReclaimPlanner"/>. Watches the Pods bound to this node (field selector
/// spec.nodeName), reads the allocations without the store's lock and the host veths, and
/// decides. Before freeing anything it asks the API server for the node's pods once more, since
/// the cache may sit behind a broken watch; each address is then freed under the store's lock
/// only if its record is unchanged and no plugin holds it (compare-and-hold, as GC does), its
/// marked host veth deleted first. A pass runs on every Pod deletion or phase change, when the
/// next allocation is due, and at least every resync period (a sandbox vanishes without a Pod event).
/// </summary>
public sealed class AddressReclaimer(ApiClient api, AgentOptions options, ReclaimTally tally, Observability.AgentMetrics metrics, ILoggerFactory loggers) : BackgroundService
{
    private static readonly TimeSpan MinimumWait = TimeSpan.FromMilliseconds(200);

    private readonly ILogger _logger = loggers.CreateLogger<AddressReclaimer>();
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private IReadOnlyDictionary<IPAddress, StaleSighting> _sightings = new Dictionary<IPAddress, StaleSighting>();

    private string NodeSelector => $"spec.nodeName={options.NodeName}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var pods = new Informer<V1Pod>(ResourceClients.Pods(api, NodeSelector), logger: loggers.CreateLogger<Informer<V1Pod>>());
        pods.Deleted += _ => Wake();
        pods.Updated += (old, now) =>
        {
            if (old.Status?.Phase != now.Status?.Phase) Wake();
        };
        var watching = pods.RunAsync(stoppingToken);
        var grace = options.ReclaimGrace;
        var period = grace < options.Resync ? grace : options.Resync;
        using var host = NetlinkHandle.Open();
        try
        {
            await pods.WaitForSyncAsync(stoppingToken);
            _logger.LogInformation("reclaim: the Pod cache of node {Node} is synced ({Pods} pods); addresses of pods gone for {Grace} are freed",
                options.NodeName, pods.Count, grace);
            while (!stoppingToken.IsCancellationRequested)
            {
                var due = await PassAsync(pods, host, grace, stoppingToken);
                var wait = due is { } at && at - DateTimeOffset.UtcNow < period ? at - DateTimeOffset.UtcNow : period;
                await WaitAsync(wait < MinimumWait ? MinimumWait : wait, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await watching;
    }

    /// <summary>One decision and what it frees; returns when the next pass could free something by time alone.</summary>
    private async Task<DateTimeOffset?> PassAsync(Informer<V1Pod> pods, NetlinkHandle host, TimeSpan grace, CancellationToken cancellationToken)
    {
        IReadOnlyList<Allocation> allocations;
        IReadOnlySet<Attachment> sandboxes;
        try
        {
            allocations = AllocationStore.ReadAllocations(options.IpamDataDir, NodeContract.NetworkName);
            sandboxes = HostEnds.Present(host.ListLinks(), allocations.Select(a => a.Owner).OfType<Attachment>());
        }
        catch (Exception e) when (e is IOException or NetlinkException)
        {
            _logger.LogWarning("reclaim: cannot see the node's allocations or links, nothing decided: {Error}", e.Message);
            return null;
        }
        var now = DateTimeOffset.UtcNow;
        var cached = pods.List().Select(PodFacts.From).ToList();
        var plan = ReclaimPlanner.Plan(allocations, new PodView(pods.HasSynced, true, cached), sandboxes, _sightings, now, grace);
        if (plan.FreeNow.Count > 0)
        {
            var live = await ListLiveAsync(cancellationToken);
            // The cache and the API server's answer together: a pod either of them knows keeps its addresses.
            plan = ReclaimPlanner.Plan(allocations, new PodView(pods.HasSynced, live is not null, [.. cached, .. live ?? []]), sandboxes, _sightings, now, grace);
        }
        _sightings = plan.Sightings;
        if (plan.FreeNow.Count > 0) Free(plan.FreeNow, host);
        return plan.NextDue;
    }

    /// <summary>The node's pods as the API server has them now; null when it does not answer.</summary>
    private async Task<IReadOnlyList<PodFacts>?> ListLiveAsync(CancellationToken cancellationToken)
    {
        try
        {
            var list = await ResourceClients.Pods(api, NodeSelector).ListAsync(pod => pod, cancellationToken);
            return list.Items.Select(PodFacts.From).ToList();
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _logger.LogWarning("reclaim: the API server did not list the pods of node {Node}, so nothing is freed: {Error}", options.NodeName, e.GetBaseException().Message);
            return null;
        }
    }

    private void Free(IReadOnlyList<Reclaim> reclaims, NetlinkHandle host)
    {
        try
        {
            using var store = AllocationStore.OpenExisting(options.IpamDataDir, NodeContract.NetworkName);
            if (store is null) return;
            foreach (var reclaim in reclaims)
            {
                // Null when the record changed since it was read or a plugin (ADD, DEL) is working on it: the next pass decides again.
                using var hold = store.TryHold(reclaim.Allocation);
                if (hold is null) continue;
                var owner = reclaim.Allocation.Owner!;
                bool veth;
                try
                {
                    veth = HostEnds.TryDelete(host, owner);
                }
                catch (NetlinkException e)
                {
                    _logger.LogWarning("reclaim: {Address} stays held, its host veth could not be deleted: {Error}", reclaim.Allocation.Address, e.Message);
                    continue;
                }
                if (!veth)
                {
                    _logger.LogWarning("reclaim: {Address} stays held, an unmarked veth has a host name of {Owner}", reclaim.Allocation.Address, owner);
                    continue;
                }
                store.Release(hold);
                _logger.LogInformation("reclaimed {Reclaim}", reclaim.Describe());
                tally.Add(reclaim.Allocation.Address);
                metrics.RecordReclaimed(1);
            }
        }
        catch (IOException e)
        {
            _logger.LogWarning("reclaim: {Error}", e.Message);
        }
    }

    private async Task WaitAsync(TimeSpan wait, CancellationToken stoppingToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        timeout.CancelAfter(wait);
        try
        {
            await _wake.Reader.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
        }
    }

    private void Wake() => _wake.Writer.TryWrite(true);
}
