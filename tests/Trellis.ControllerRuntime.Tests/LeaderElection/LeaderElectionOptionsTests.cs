using Trellis.ControllerRuntime.LeaderElection;
using Xunit;

namespace Trellis.ControllerRuntime.Tests.LeaderElection;

public sealed class LeaderElectionOptionsTests
{
    private static LeaderElectionOptions Valid() => new() { LeaseNamespace = "trellis-system", LeaseName = "trellis-operator", Identity = "pod-a" };

    [Fact]
    public void DefaultsAreValid() => Valid().Validate();

    public static TheoryData<LeaderElectionOptions, string> Invalid() => new()
    {
        { Valid() with { LeaseName = "" }, "namespace and a name" },
        { Valid() with { Identity = " " }, "identity" },
        { Valid() with { RenewDeadline = TimeSpan.FromSeconds(15) }, "renew deadline" },
        { Valid() with { RetryPeriod = TimeSpan.FromSeconds(10) }, "retry period" },
        { Valid() with { RetryPeriod = TimeSpan.Zero }, "retry period" },
        { Valid() with { LeaseDuration = TimeSpan.FromMilliseconds(500), RenewDeadline = TimeSpan.FromMilliseconds(400), RetryPeriod = TimeSpan.FromMilliseconds(100) }, "lease duration" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void InvalidOptionsNameTheLeaseAndTheProblem(LeaderElectionOptions options, string problem)
    {
        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains(problem, error.Message);
        if (options.LeaseName.Length > 0)
            Assert.Contains("trellis-system/trellis-operator", error.Message);
    }
}
