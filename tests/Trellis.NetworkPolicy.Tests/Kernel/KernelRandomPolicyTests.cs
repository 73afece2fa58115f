using System.Net.Sockets;
using Trellis.NetworkPolicy.Facts;
using Trellis.NetworkPolicy.Tests.Model;
using Trellis.NetworkPolicy.Tests.Reference;

namespace Trellis.NetworkPolicy.Tests.Kernel;

/// <summary>
/// Random policies (the generator of <see cref="RandomPolicies"/>) against the kernel: every pair
/// of the nine pods and the outside host, TCP and UDP on both ports over both families, probed
/// at once and compared with the reference evaluator.
/// </summary>
[Collection(PolicyLabCollection.Name)]
public sealed class KernelRandomPolicyTests(PolicyLabFixture fixture)
{
    public static TheoryData<int> Seeds() => new(Enumerable.Range(1, 12).Select(i => i * 7919));

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task KernelAgreesWithTheReferenceEvaluator(int seed)
    {
        var lab = fixture.Lab;
        var state = lab.State;
        RandomPolicies.Apply(state, seed);
        lab.Enforce();
        var policies = state.Policies;
        var namespaces = state.NamespaceObjects();
        var objects = state.PodObjects();
        var cells = new List<(ProbeCell Cell, bool Expected)>();
        foreach (var family in new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
        {
            var external = family == AddressFamily.InterNetwork ? PolicyLab.ExternalV4 : PolicyLab.ExternalV6;
            var endpoints = state.Pods.Zip(objects).Select(p => (Name: p.First.Key, Endpoint: Endpoint.OfPod(p.Second, p.First.Address(family))))
                .Append((Name: "external", Endpoint: Endpoint.External(external))).ToList();
            foreach (var from in endpoints)
                foreach (var to in endpoints)
                {
                    if (from.Name == to.Name) continue;
                    foreach (var port in UpstreamModel.ServedPorts)
                        foreach (var protocol in new[] { TransportProtocol.Tcp, TransportProtocol.Udp })
                            cells.Add((new ProbeCell(from.Name, to.Name, to.Endpoint.Address, port, protocol),
                                ReferenceEvaluator.Allows(policies, namespaces, from.Endpoint, to.Endpoint, port, protocol.ApiName())));
                }
        }
        var results = new Dictionary<ProbeCell, ProbeResult>(await lab.ProbeAsync(cells.Select(c => c.Cell).ToList(), TruthTable.Timeout));
        var doubtful = cells.Where(c => c.Expected && !results[c.Cell].Answered).Select(c => c.Cell).ToList();
        if (doubtful.Count > 0)
            foreach (var (cell, result) in await lab.ProbeAsync(doubtful, TruthTable.PatientTimeout)) results[cell] = result;
        var wrong = cells.Where(c => results[c.Cell].Error is not null || results[c.Cell].Answered != c.Expected
                || (results[c.Cell].Answered && results[c.Cell].Answer != c.Cell.To))
            .Select(c => $"  {c.Cell.From} -> {c.Cell.To} {c.Cell.Destination} {c.Cell.Protocol}/{c.Cell.Port}: evaluator {(c.Expected ? "allow" : "deny")}, kernel {results[c.Cell].Answer ?? results[c.Cell].Error ?? "no answer"}")
            .ToList();
        Assert.True(wrong.Count == 0, $"seed {seed}, {wrong.Count} of {cells.Count} cells differ:\n{string.Join('\n', wrong)}\npolicies:\n{string.Join('\n', policies.Select(p => k8s.KubernetesJson.Serialize(p)))}");
    }
}
