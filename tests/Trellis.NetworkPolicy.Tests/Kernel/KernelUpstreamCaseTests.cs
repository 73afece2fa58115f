using Trellis.NetworkPolicy.Tests.Model;
using Xunit.Abstractions;

namespace Trellis.NetworkPolicy.Tests.Kernel;

/// <summary>
/// Every upstream case against the kernel: the compiled tables applied with nft in two node
/// namespaces, real TCP and UDP over IPv4 and IPv6 between pods on the same node (bridged) and on the other node
/// (routed), all 81 cells of the nine pods (72 without loopback) compared with the reference evaluator and upstream's table.
/// </summary>
[Collection(PolicyLabCollection.Name)]
public sealed class KernelUpstreamCaseTests(PolicyLabFixture fixture, ITestOutputHelper output)
{
    public static TheoryData<string> Cases(bool sctp) =>
        new(UpstreamCases.All.Where(c => c.Steps.OfType<Check>().Any(k => k.Protocol == "SCTP") == sctp).Select(c => c.Name));

    public static TheoryData<string> TcpAndUdpCases() => Cases(sctp: false);

    public static TheoryData<string> SctpCases() => Cases(sctp: true);

    [Theory]
    [MemberData(nameof(TcpAndUdpCases))]
    public Task KernelMatchesTheReferenceEvaluator(string name) => RunAsync(name);

    [SctpTheory]
    [MemberData(nameof(SctpCases))]
    public Task KernelMatchesTheReferenceEvaluatorOverSctp(string name) => RunAsync(name);

    private async Task RunAsync(string name)
    {
        var testCase = UpstreamCases.All.Single(c => c.Name == name);
        var lab = fixture.Lab;
        var failures = new List<string>();
        int step = 0;
        await CaseRunner.RunAsync(testCase, lab.State, async (check, expected) =>
        {
            step++;
            lab.Enforce();
            var problem = await TruthTable.CompareAsync(lab, UpstreamModel.PodKeys, check.Port, check.Protocol(), expected);
            if (problem is not null) failures.Add($"check {step}, {problem}");
        });
        foreach (var failure in failures) output.WriteLine(failure);
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }
}
