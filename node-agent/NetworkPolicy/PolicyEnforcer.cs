using System.Diagnostics;
using System.Threading.Channels;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Trellis.ControllerRuntime.Clients;
using Trellis.ControllerRuntime.Informers;
using Trellis.NetworkPolicy.Applying;
using Trellis.NetworkPolicy.Compiling;
using Trellis.NetworkPolicy.Facts;

namespace Trellis.NodeAgent.NetworkPolicy;

/// <summary>
/// Enforces NetworkPolicy on this node: watches NetworkPolicies, Namespaces and Pods (informers
/// of the controller runtime), compiles what concerns this node's pods into its nftables table
/// and writes it. Changes arriving while a pass runs collapse into one more pass; every resync
/// period the table is replaced whole, repairing anything done to it behind the agent's back.
/// Until the caches are synced the table left by a previous run stays in force, so a restart
/// never opens what was closed.
/// </summary>
public sealed class PolicyEnforcer(ApiClient api, AgentOptions options, PolicyEnforcementState state, ILoggerFactory loggers) : BackgroundService
{
    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(2);

    private readonly ILogger _logger = loggers.CreateLogger<PolicyEnforcer>();
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private IReadOnlySet<string> _reported = new HashSet<string>();
    private volatile bool _replaceNext;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options;
        var policies = new Informer<V1NetworkPolicy>(ResourceClients.NetworkPolicies(api), logger: loggers.CreateLogger<Informer<V1NetworkPolicy>>());
        var namespaces = new Informer<V1Namespace>(ResourceClients.Namespaces(api), logger: loggers.CreateLogger<Informer<V1Namespace>>());
        var pods = new Informer<V1Pod>(ResourceClients.Pods(api), logger: loggers.CreateLogger<Informer<V1Pod>>());
        Watch(policies, PolicyRelevance.Of);
        Watch(namespaces, PolicyRelevance.Of);
        Watch(pods, PolicyRelevance.Of);

        var writer = new PolicyTableWriter(new NftCommand());
        state.Writer = writer;
        var watching = Task.WhenAll(policies.RunAsync(stoppingToken), namespaces.RunAsync(stoppingToken), pods.RunAsync(stoppingToken));
        using var resync = new PeriodicTimer(settings.Resync);
        var resyncing = ResyncAsync(resync, stoppingToken);
        try
        {
            await Task.WhenAll(policies.WaitForSyncAsync(stoppingToken), namespaces.WaitForSyncAsync(stoppingToken), pods.WaitForSyncAsync(stoppingToken));
            _logger.LogInformation("NetworkPolicy: caches synced ({Policies} policies, {Namespaces} namespaces, {Pods} pods); enforcing on node {Node}",
                policies.Count, namespaces.Count, pods.Count, settings.NodeName);
            Wake();
            while (await _wake.Reader.WaitToReadAsync(stoppingToken))
            {
                _wake.Reader.TryRead(out _);
                if (_replaceNext)
                {
                    _replaceNext = false;
                    writer.Forget();
                }
                if (!Pass(writer, settings.NodeName, policies, namespaces, pods))
                {
                    _replaceNext = true;
                    _ = Task.Delay(RetryAfterFailure, stoppingToken).ContinueWith(_ => Wake(), TaskScheduler.Default);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await Task.WhenAll(watching, resyncing);
    }

    /// <summary>One compile and write; false when nft refused (the previous table stays in force).</summary>
    private bool Pass(PolicyTableWriter writer, string node, Informer<V1NetworkPolicy> policies, Informer<V1Namespace> namespaces, Informer<V1Pod> pods)
    {
        var bridgeProblem = BridgeNetfilter.Ensure();
        if (bridgeProblem is not null) _logger.LogError("NetworkPolicy: {Problem}", bridgeProblem);
        var clock = Stopwatch.StartNew();
        var compiled = PolicyCompiler.Compile(PolicyInputs.Parse(policies.List(), namespaces.List(), pods.List()), node);
        double compileMs = clock.Elapsed.TotalMilliseconds;
        ReportProblems(compiled.Problems);
        TableWrite write;
        try
        {
            write = writer.Write(compiled.Table);
        }
        catch (NftablesException e)
        {
            _logger.LogError("NetworkPolicy: the table was not written, the previous one stays in force: {Error}", e.Message);
            return false;
        }
        double writeMs = clock.Elapsed.TotalMilliseconds - compileMs;
        state.Publish(new PolicyEnforcement(compiled, write, DateTimeOffset.UtcNow, compileMs, writeMs, bridgeProblem));
        if (write != TableWrite.Unchanged)
            _logger.LogInformation("NetworkPolicy: {Write} ({Policies} policy directions isolate pods here, {Rules} rules, {Elements} elements) in {Compile:0.0} + {Apply:0.0} ms",
                write, compiled.Counters.Count, compiled.Table.RuleCount, compiled.Table.ElementCount, compileMs, writeMs);
        return true;
    }

    /// <summary>Logs each problem once, when it appears, and says when problems are gone.</summary>
    private void ReportProblems(IReadOnlyList<string> problems)
    {
        var now = problems.ToHashSet(StringComparer.Ordinal);
        foreach (var problem in problems.Where(p => !_reported.Contains(p)))
            _logger.LogWarning("NetworkPolicy: {Problem}", problem);
        if (now.Count == 0 && _reported.Count > 0)
            _logger.LogInformation("NetworkPolicy: no more problems with the policies or pods");
        _reported = now;
    }

    private void Watch<T>(Informer<T> informer, Func<T, string> relevance) where T : class, IKubernetesObject<V1ObjectMeta>
    {
        informer.Added += _ => Wake();
        informer.Deleted += _ => Wake();
        informer.Updated += (old, now) =>
        {
            if (relevance(old) != relevance(now)) Wake();
        };
    }

    private async Task ResyncAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                _replaceNext = true;
                Wake();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Wake() => _wake.Writer.TryWrite(true);
}
