using FluentValidation;

namespace Trellis.Operator.Hosting;

/// <summary>Start-up checks of <see cref="OperatorOptions"/>; a bad option stops the process before it touches the cluster.</summary>
public sealed class OperatorOptionsValidator : AbstractValidator<OperatorOptions>
{
    /// <param name="checkConnection">Also check how the API server is reached; off when the caller hands the operator a client (in-process use).</param>
    public OperatorOptionsValidator(bool checkConnection)
    {
        if (checkConnection)
        {
            RuleFor(o => o.Kubeconfig).Must(path => string.IsNullOrEmpty(path) || File.Exists(path))
                .WithMessage(o => $"--kubeconfig {o.Kubeconfig}: no such file");
            RuleFor(o => o.Kubeconfig).Must(_ => InClusterAvailable())
                .When(o => string.IsNullOrEmpty(o.Kubeconfig))
                .WithMessage("no --kubeconfig given and not running in a cluster (KUBERNETES_SERVICE_HOST is unset)");
        }
        RuleFor(o => o.LeaderElectionNamespace).NotEmpty().When(o => o.LeaderElect)
            .WithMessage("--leader-election-namespace must not be empty when --leader-elect is on");
        RuleFor(o => o.LeaderElectionName).NotEmpty().When(o => o.LeaderElect)
            .WithMessage("--leader-election-name must not be empty when --leader-elect is on");
        RuleFor(o => o.Identity).NotEmpty().When(o => o.LeaderElect)
            .WithMessage("--identity must not be empty when --leader-elect is on");
        RuleFor(o => o).Must(o => o.RetryPeriod > TimeSpan.Zero && o.RetryPeriod < o.RenewDeadline && o.RenewDeadline < o.LeaseDuration)
            .When(o => o.LeaderElect)
            .WithMessage(o => $"leader election needs 0 < retry period ({o.RetryPeriod}) < renew deadline ({o.RenewDeadline}) < lease duration ({o.LeaseDuration})");
        RuleFor(o => o.Workers).InclusiveBetween(1, 64).WithMessage(o => $"--workers {o.Workers} must be within 1..64");
        RuleFor(o => o.WriteConcurrency).InclusiveBetween(1, 256).WithMessage(o => $"--write-concurrency {o.WriteConcurrency} must be within 1..256");
        RuleFor(o => o.HealthPort).InclusiveBetween(0, 65535).WithMessage(o => $"--health-port {o.HealthPort} must be within 0..65535");
        RuleFor(o => o.ResyncPeriod).GreaterThan(TimeSpan.Zero).WithMessage(o => $"resync period {o.ResyncPeriod} must be positive");
    }

    /// <summary>Throws one error listing every problem, so a misconfigured replica fails at start with all of them.</summary>
    public static void EnsureValid(OperatorOptions options, bool includeConnection)
    {
        var result = new OperatorOptionsValidator(includeConnection).Validate(options);
        if (!result.IsValid)
            throw new ArgumentException("invalid operator options: " + string.Join("; ", result.Errors.Select(e => e.ErrorMessage)));
    }

    private static bool InClusterAvailable() => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST"));
}
