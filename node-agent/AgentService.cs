using System.Diagnostics;
using System.Net;
using System.Threading.Channels;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Trellis.ControllerRuntime.Clients;
using Trellis.ControllerRuntime.Events;
using Trellis.ControllerRuntime.Informers;
using Trellis.ControllerRuntime.Queue;
using Trellis.ControllerRuntime.Updates;
using Trellis.Crds;
using Trellis.Netlink;
using Trellis.NodeAgent.Bgp;
using Trellis.NodeAgent.Cni;
using Trellis.NodeAgent.Kernel;
using Trellis.NodeAgent.Observability;
using Trellis.NodeAgent.Planning;
using Trellis.NodeAgent.Reclaiming;
using Trellis.NodeAgent.Reconciling;

namespace Trellis.NodeAgent;

/// <summary>
/// The agent's one loop: every NodeSubnet event and every resync period make the node match the
/// NodeSubnets. Events arriving while a pass runs collapse into one more pass. A pass that fails for
/// a reason that may pass is retried as a full pass, waiting twice as long after each failure in a row.
/// </summary>
public sealed class AgentService(ApiClient api, AgentOptions settings, ReclaimTally reclaims, AgentMetrics metrics, LoopHealth health,
    ILoggerFactory loggers) : BackgroundService
{
    private const string RetryKey = "full pass";

    /// <summary>
    /// How often the IPAM store is looked at for addresses handed out or freed: a pass then reports the usage the
    /// operator grows and releases blocks by (the plugin runs in the runtime's process and tells the agent nothing).
    /// A directory listing, so cheap enough to do often.
    /// </summary>
    private static readonly TimeSpan UsageCheckPeriod = TimeSpan.FromSeconds(2);

    /// <summary>First retry after 2 s, doubling to 5 min; the periodic resync still makes a full pass on its own schedule.</summary>
    private readonly ExponentialBackoff<string> _retries = new(TimeSpan.FromSeconds(2), TimeSpan.FromMinutes(5));

    private readonly ILogger _logger = loggers.CreateLogger<AgentService>();
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly CustomResourceClient<NodeSubnet> _subnets = new(api);
    private readonly HashSet<string> _reported = new(StringComparer.Ordinal);
    private volatile bool _fullRequested = true;
    private int _retryPending;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var informer = new Informer<NodeSubnet, CachedSubnet>(ResourceClients.ClusterCustom<NodeSubnet>(api),
            subnet => CachedSubnet.Of(subnet, settings.NodeName), logger: loggers.CreateLogger<Informer<NodeSubnet, CachedSubnet>>());
        informer.Added += _ => Wake();
        informer.Deleted += _ => Wake();
        // Status writes (ours among them) come back as updates; only a change a pass would plan from needs one.
        informer.Updated += (old, now) =>
        {
            if (!old.PlansLike(now)) Wake();
        };
        var events = new EventRecorder(api, "trellis-agent", settings.NodeName, logger: loggers.CreateLogger<EventRecorder>());

        var apiServer = await ApiServerAddressesAsync(stoppingToken);
        using var netlink = NetlinkHandle.Open();
        var reconciler = new NodeReconciler(
            settings.NodeName,
            new AgentSettings(settings.Bridge, settings.IpamDataDir, apiServer),
            new NodeKernel(netlink, loggers.CreateLogger<NodeKernel>()),
            new NftablesRunner(),
            new ConflistWriter(settings.CniConfDir),
            new PluginInstaller(settings.CniPluginSource, settings.CniBinDir),
            loggers.CreateLogger<NodeReconciler>());

        await using var bgp = new BgpAnnouncer(loggers.CreateLogger<BgpAnnouncer>());
        bgp.Changed += Wake;
        reclaims.Changed += Wake;

        var watching = informer.RunAsync(stoppingToken);
        using var resync = new PeriodicTimer(settings.Resync);
        var resyncing = ResyncAsync(resync, stoppingToken);
        var usageWatching = WatchUsageAsync(stoppingToken);
        _logger.LogInformation("trellis-agent for node {Node}: waiting for the NodeSubnet cache (API server {ApiServer})",
            settings.NodeName, string.Join(", ", apiServer));
        try
        {
            await informer.WaitForSyncAsync(stoppingToken);
            Wake();
            while (await _wake.Reader.WaitToReadAsync(stoppingToken))
            {
                _wake.Reader.TryRead(out _);
                bool full = _fullRequested;
                _fullRequested = false;
                health.PassStarted();
                var started = Stopwatch.GetTimestamp();
                var subnets = informer.List();
                var result = reconciler.Reconcile(subnets, full);
                if (OwnAndPeerSubnets.TryBuild(settings.NodeName, subnets, out var view, out _)) bgp.Apply(BgpPlanner.Plan(view));
                await WriteStatusesAsync(informer, result, bgp, stoppingToken);
                await ReportRefusalsAsync(informer, events, result.Refusals, stoppingToken);
                metrics.RecordPass(result, result.KernelErrors, full, Stopwatch.GetElapsedTime(started), DateTimeOffset.UtcNow);
                metrics.RecordBgpSessions(bgp.Sessions.Select(s => (s.Address.ToString(), s.State)).ToList());
                health.PassFinished(result.Outcome.Programmed ? null : $"{result.Outcome.Reason}: {result.Outcome.Message}");
                ScheduleRetry(result.Outcome, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await Task.WhenAll(watching, resyncing, usageWatching);
    }

    /// <summary>Wakes a pass whenever the set of addresses in the IPAM store has changed since the last look.</summary>
    private async Task WatchUsageAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(UsageCheckPeriod);
        string? last = null;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                string now;
                try
                {
                    now = IpamUsage.Snapshot(settings.IpamDataDir);
                }
                catch (IOException)
                {
                    continue;
                }
                if (last is not null && now != last) Wake();
                last = now;
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// Kernel and file failures may pass (a device busy, a directory not mounted yet, someone else's route in the
    /// way), so they earn a full pass again, but never in a tight loop: each failure in a row doubles the wait.
    /// Spec problems wait for the spec to change.
    /// </summary>
    private void ScheduleRetry(ReconcileOutcome outcome, CancellationToken stoppingToken)
    {
        if (!outcome.Retryable)
        {
            _retries.Forget(RetryKey);
            return;
        }
        // One retry pending at a time: passes woken by events meanwhile fail too, but must not start more retries.
        if (Interlocked.Exchange(ref _retryPending, 1) == 1) return;
        var delay = _retries.When(RetryKey);
        _logger.LogWarning("pass failed ({Reason}, {Failures} in a row); a full pass again in {Delay}: {Message}",
            outcome.Reason, _retries.Failures(RetryKey), delay, outcome.Message);
        _ = Task.Delay(delay, stoppingToken).ContinueWith(_ =>
        {
            Volatile.Write(ref _retryPending, 0);
            _fullRequested = true;
            Wake();
        }, TaskContinuationOptions.OnlyOnRanToCompletion);
    }

    private async Task ResyncAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                _fullRequested = true;
                Wake();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Wake() => _wake.Writer.TryWrite(true);

    /// <summary>Where this agent reaches the API server (its kubeconfig's or the in-cluster host), resolved once: no block may hold it.</summary>
    private async Task<IReadOnlyList<IPAddress>> ApiServerAddressesAsync(CancellationToken cancellationToken)
    {
        var host = api.BaseUri.Host;
        if (IPAddress.TryParse(host.Trim('[', ']'), out var literal)) return [literal];
        try
        {
            return await Dns.GetHostAddressesAsync(host, cancellationToken);
        }
        catch (System.Net.Sockets.SocketException error)
        {
            _logger.LogWarning("cannot resolve the API server's host {Host} ({Error}); only its name is known, so no block is checked against it", host, error.Message);
            return [];
        }
    }

    private async Task WriteStatusesAsync(Informer<NodeSubnet, CachedSubnet> informer, PassResult result, BgpAnnouncer bgp, CancellationToken cancellationToken)
    {
        var ipam = new List<(string, string, int, long)>();
        foreach (var update in result.Statuses)
        {
            // The informer answers with our own last write until its watch catches up (only this agent writes this status).
            var current = informer.Get(update.SubnetName)?.Object?.Status;
            var status = bgp.Report(update.SubnetName, update.Build(current));
            var reclaimed = reclaims.Take(address => update.Blocks.Any(b => b.Cidr.Contains(address)));
            status.AddressesReclaimed += reclaimed.Count;
            ipam.Add((update.SubnetName, update.PodNetwork, status.AddressesInUse, status.AddressCapacity));
            if (!StatusReport.Differs(status, current)) continue;
            try
            {
                var patch = new V1Patch(ApiJson.Serialize(new Dictionary<string, object> { ["status"] = status }), V1Patch.PatchType.MergePatch);
                informer.Assume(await _subnets.PatchStatusAsync(patch, update.SubnetName, cancellationToken));
                _logger.LogInformation("NodeSubnet {Name}: Programmed={Programmed} ({Reason}), {Peers} peers routed",
                    update.SubnetName, status.Conditions.First(c => c.Type == Conditions.Programmed).Status,
                    status.Conditions.First(c => c.Type == Conditions.Programmed).Reason, status.PeersRouted);
            }
            catch (Exception e) when (e is k8s.Autorest.HttpOperationException or HttpRequestException)
            {
                reclaims.GiveBack(reclaimed);
                _logger.LogWarning("NodeSubnet {Name}: status not written: {Error}", update.SubnetName, e.Message);
            }
        }
        metrics.RecordIpam(ipam);
    }

    /// <summary>One Warning Event per refused block about the NodeSubnet that asked for it, when the refusal first appears.</summary>
    private async Task ReportRefusalsAsync(Informer<NodeSubnet, CachedSubnet> informer, EventRecorder events, IReadOnlyList<BlockRefusal> refusals, CancellationToken cancellationToken)
    {
        _reported.IntersectWith(refusals.Select(r => r.Message));
        foreach (var refusal in refusals)
        {
            if (_reported.Contains(refusal.Message) || informer.Get(refusal.Subnet) is not { } subnet) continue;
            _logger.LogWarning("{Refusal}", refusal.Message);
            if (await events.WarningAsync(subnet.EventSubject(), ReconcileOutcome.ReasonUnsafeBlock, refusal.Message, cancellationToken) is not null)
                _reported.Add(refusal.Message);
        }
    }
}
