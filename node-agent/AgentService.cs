using System.Threading.Channels;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Trellis.ControllerRuntime.Clients;
using Trellis.ControllerRuntime.Informers;
using Trellis.Crds;
using Trellis.Netlink;
using Trellis.NodeAgent.Bgp;
using Trellis.NodeAgent.Cni;
using Trellis.NodeAgent.Kernel;
using Trellis.NodeAgent.Planning;
using Trellis.NodeAgent.Reconciling;

namespace Trellis.NodeAgent;

/// <summary>
/// The agent's one loop: every NodeSubnet event and every resync period make the node match the
/// NodeSubnets. Events arriving while a pass runs collapse into one more pass.
/// </summary>
public sealed class AgentService(IKubernetes kubernetes, IOptions<AgentOptions> options, ILoggerFactory loggers) : BackgroundService
{
    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(2);

    private readonly ILogger _logger = loggers.CreateLogger<AgentService>();
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Dictionary<string, NodeSubnetStatus> _written = new(StringComparer.Ordinal);
    private volatile bool _fullRequested = true;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var informer = new Informer<NodeSubnet>(
            ResourceClients.ClusterCustom<NodeSubnet>(kubernetes, TrellisApi.Group, TrellisApi.Version, NodeSubnet.Plural),
            new InformerOptions(), loggers.CreateLogger<Informer<NodeSubnet>>());
        informer.Added += _ => Wake();
        informer.Deleted += _ => Wake();
        informer.Updated += (old, now) =>
        {
            if (SpecChanged(old, now)) Wake();
        };

        using var netlink = NetlinkHandle.Open();
        var reconciler = new Reconciler(
            settings.NodeName,
            new AgentSettings(settings.Bridge, settings.IpamDataDir),
            new NodeKernel(netlink, loggers.CreateLogger<NodeKernel>()),
            new NftablesRunner(),
            new ConflistWriter(settings.CniConfDir),
            new PluginInstaller(settings.CniPluginSource, settings.CniBinDir),
            loggers.CreateLogger<Reconciler>());

        await using var bgp = new BgpAnnouncer(loggers.CreateLogger<BgpAnnouncer>());
        bgp.Changed += Wake;

        var watching = informer.RunAsync(stoppingToken);
        using var resync = new PeriodicTimer(settings.Resync);
        var resyncing = ResyncAsync(resync, stoppingToken);
        _logger.LogInformation("trellis-agent for node {Node}: waiting for the NodeSubnet cache", settings.NodeName);
        try
        {
            await informer.WaitForSyncAsync(stoppingToken);
            Wake();
            while (await _wake.Reader.WaitToReadAsync(stoppingToken))
            {
                _wake.Reader.TryRead(out _);
                bool full = _fullRequested;
                _fullRequested = false;
                var subnets = informer.List();
                var result = reconciler.Reconcile(subnets, full);
                if (ClusterView.TryBuild(settings.NodeName, subnets, out var view, out _)) bgp.Apply(BgpPlanner.Plan(view));
                await WriteStatusesAsync(informer, result, bgp, stoppingToken);
                // Kernel and file failures may be passing (a device busy, a directory not mounted yet): retry soon.
                // Spec problems wait for the spec to change.
                if (result.Outcome.Reason is ReconcileOutcome.ReasonKernelError or ReconcileOutcome.ReasonCniError or ReconcileOutcome.ReasonUnderlayNotFound)
                {
                    _fullRequested = true;
                    _ = Task.Delay(RetryAfterFailure, stoppingToken).ContinueWith(_ => Wake(), TaskScheduler.Default);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await Task.WhenAll(watching, resyncing);
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

    /// <summary>Status writes (ours among them) come back as updates; only a spec or deletion change needs a pass.</summary>
    private static bool SpecChanged(NodeSubnet old, NodeSubnet now) =>
        old.Metadata?.DeletionTimestamp != now.Metadata?.DeletionTimestamp ||
        KubernetesJson.Serialize(old.Spec) != KubernetesJson.Serialize(now.Spec);

    private async Task WriteStatusesAsync(Informer<NodeSubnet> informer, ReconcileResult result, BgpAnnouncer bgp, CancellationToken cancellationToken)
    {
        foreach (var gone in _written.Keys.Where(name => informer.Get(name) is null).ToList()) _written.Remove(gone);
        foreach (var update in result.Statuses)
        {
            // The cache may not hold our last write yet; what we wrote is the newer truth (only this agent writes this status).
            var current = _written.GetValueOrDefault(update.SubnetName) ?? informer.Get(update.SubnetName)?.Status;
            var status = bgp.Report(update.SubnetName, update.Build(current));
            if (!StatusReport.Differs(status, current)) continue;
            try
            {
                var patch = new V1Patch(KubernetesJson.Serialize(new { status }), V1Patch.PatchType.MergePatch);
                await kubernetes.CustomObjects.PatchClusterCustomObjectStatusAsync(patch, TrellisApi.Group, TrellisApi.Version,
                    NodeSubnet.Plural, update.SubnetName, cancellationToken: cancellationToken);
                _written[update.SubnetName] = status;
                _logger.LogInformation("NodeSubnet {Name}: Programmed={Programmed} ({Reason}), {Peers} peers routed",
                    update.SubnetName, status.Conditions.First(c => c.Type == Conditions.Programmed).Status,
                    result.Outcome.Reason, status.PeersRouted);
            }
            catch (Exception e) when (e is k8s.Autorest.HttpOperationException or HttpRequestException)
            {
                _logger.LogWarning("NodeSubnet {Name}: status not written: {Error}", update.SubnetName, e.Message);
            }
        }
    }
}
