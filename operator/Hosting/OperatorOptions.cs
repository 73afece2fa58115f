namespace Trellis.Operator.Hosting;

/// <summary>Settings of one operator replica, bound from configuration and the command line and validated at start.</summary>
public sealed record OperatorOptions
{
    /// <summary>Path of a kubeconfig; empty means in-cluster configuration.</summary>
    public string? Kubeconfig { get; init; }

    public bool LeaderElect { get; init; } = true;
    public string LeaderElectionNamespace { get; init; } = "trellis-system";
    public string LeaderElectionName { get; init; } = "trellis-operator";

    /// <summary>Unique per replica; defaults to the host name (the pod name in a Deployment) and process id.</summary>
    public string Identity { get; init; } = $"{Environment.MachineName}-{Environment.ProcessId}";

    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromSeconds(15);
    public TimeSpan RenewDeadline { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan RetryPeriod { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>PodNetworks reconciled at once; the allocator is shared and guarded.</summary>
    public int Workers { get; init; } = 2;

    /// <summary>NodeSubnet writes in flight at once within one reconcile.</summary>
    public int WriteConcurrency { get; init; } = 16;

    /// <summary>Port of /healthz and /readyz; 0 turns the endpoint off (in-process use).</summary>
    public int HealthPort { get; init; } = 8081;

    /// <summary>Also write a node's first block into Node.spec.podCIDRs when that is empty, for tools that read it.</summary>
    public bool SetNodePodCidrs { get; init; }

    /// <summary>Every network is reconciled again this often even without a change, to heal drift.</summary>
    public TimeSpan ResyncPeriod { get; init; } = TimeSpan.FromMinutes(10);
}
