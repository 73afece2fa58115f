namespace Trellis.ControllerRuntime.LeaderElection;

/// <summary>
/// Which Lease to hold and how. Safety rests on <see cref="RenewDeadline"/> &lt; <see cref="LeaseDuration"/>:
/// a leader that cannot renew gives up (and cancels its work) at most RenewDeadline after its last renewal,
/// while a follower takes over only LeaseDuration after it last saw the lease change; the gap between
/// the two is the time the old leader's work has to stop.
/// </summary>
public sealed record LeaderElectionOptions
{
    public required string LeaseNamespace { get; init; }
    public required string LeaseName { get; init; }

    /// <summary>Unique per candidate, e.g. the pod name.</summary>
    public required string Identity { get; init; }

    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromSeconds(15);
    public TimeSpan RenewDeadline { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan RetryPeriod { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Throws an error naming the lease when the options cannot give one leader at a time.</summary>
    public void Validate()
    {
        var lease = $"lease {LeaseNamespace}/{LeaseName}";
        if (string.IsNullOrWhiteSpace(LeaseNamespace) || string.IsNullOrWhiteSpace(LeaseName))
            throw new ArgumentException($"leader election: {lease} needs both a namespace and a name");
        if (string.IsNullOrWhiteSpace(Identity))
            throw new ArgumentException($"leader election for {lease}: identity must not be empty");
        if (RetryPeriod <= TimeSpan.Zero)
            throw new ArgumentException($"leader election for {lease}: retry period {RetryPeriod} must be positive");
        if (LeaseDuration < TimeSpan.FromSeconds(1))
            throw new ArgumentException($"leader election for {lease}: lease duration {LeaseDuration} must be at least one second (leases count whole seconds)");
        if (RenewDeadline >= LeaseDuration)
            throw new ArgumentException($"leader election for {lease}: renew deadline {RenewDeadline} must be shorter than lease duration {LeaseDuration}");
        if (RetryPeriod >= RenewDeadline)
            throw new ArgumentException($"leader election for {lease}: retry period {RetryPeriod} must be shorter than renew deadline {RenewDeadline}");
    }
}
