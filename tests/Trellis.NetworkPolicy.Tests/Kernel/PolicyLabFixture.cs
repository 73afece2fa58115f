using Trellis.NetworkPolicy.Tests.Model;

namespace Trellis.NetworkPolicy.Tests.Kernel;

/// <summary>One lab for every kernel test: building it takes seconds, resetting its state none.</summary>
public sealed class PolicyLabFixture : IAsyncLifetime
{
    public PolicyLab Lab { get; private set; } = null!;

    public Task InitializeAsync()
    {
        Lab = PolicyLab.Create(UpstreamModel.Build(UpstreamModel.LabAddresses));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await Lab.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class PolicyLabCollection : ICollectionFixture<PolicyLabFixture>
{
    public const string Name = "policy lab";
}

/// <summary>A theory that skips itself, saying why, on kernels without SCTP sockets.</summary>
public sealed class SctpTheoryAttribute : TheoryAttribute
{
    public SctpTheoryAttribute()
    {
        if (!PodSockets.SctpAvailable()) Skip = "this kernel has no SCTP sockets (socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP) fails), so SCTP cannot be probed";
    }
}
