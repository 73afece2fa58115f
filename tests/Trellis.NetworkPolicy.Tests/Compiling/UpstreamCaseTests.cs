using System.Net.Sockets;
using Trellis.NetworkPolicy.Tests.Model;
using Trellis.NetworkPolicy.Tests.Reference;

namespace Trellis.NetworkPolicy.Tests.Compiling;

/// <summary>
/// Every upstream case, without a kernel: the reference evaluator must reproduce upstream's
/// expected tables (so the evaluator reads the API as upstream does), and the compiled tables
/// of both nodes, run by the simulator, must agree with the evaluator cell by cell, over IPv4 and IPv6.
/// </summary>
public sealed class UpstreamCaseTests
{
    public static TheoryData<string> Cases() => new(UpstreamCases.All.Select(c => c.Name));

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task EvaluatorAndCompiledTablesReproduceTheUpstreamTable(string name)
    {
        var testCase = UpstreamCases.All.Single(c => c.Name == name);
        var state = UpstreamModel.Build(UpstreamModel.LabAddresses);
        int checks = 0;
        await CaseRunner.RunAsync(testCase, state, (check, expected) =>
        {
            checks++;
            var simulators = state.Nodes.ToDictionary(n => n, n => new RulesetSimulator(state.Compile(n).Table));
            foreach (var family in new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
                foreach (var (from, to) in expected.Pairs)
                {
                    var source = state.Pod(from);
                    var destination = state.Pod(to);
                    bool evaluator = state.Expect(source, destination, family, check.Port, check.Protocol());
                    Assert.True(expected[from, to] == evaluator,
                        $"step {checks}, {check.Protocol}/{check.Port} {family} {from} -> {to}: upstream expects {expected[from, to]}, the evaluator says {evaluator}");
                    var packet = new Packet(source.Address(family), destination.Address(family), check.Protocol(), check.Port);
                    bool compiled = simulators[source.Node].Accepts(packet) && simulators[destination.Node].Accepts(packet);
                    Assert.True(evaluator == compiled,
                        $"step {checks}, {check.Protocol}/{check.Port} {family} {from} -> {to}: the evaluator says {evaluator}, the compiled tables say {compiled}");
                }
            return Task.CompletedTask;
        });
        Assert.True(checks > 0);
    }

    [Fact]
    public void TheCasesCoverTheUpstreamSuite()
    {
        Assert.Equal(50, UpstreamCases.All.Count);
        Assert.Equal(UpstreamCases.All.Count, UpstreamCases.All.Select(c => c.Name).Distinct().Count());
    }
}
