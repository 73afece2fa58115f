using System.Net.Sockets;
using k8s.Models;
using Trellis.NetworkPolicy.Facts;
using Trellis.NetworkPolicy.Tests.Kernel;
using Trellis.NetworkPolicy.Tests.Model;
using Trellis.NetworkPolicy.Tests.Reference;

namespace Trellis.NetworkPolicy.Tests.Compiling;

/// <summary>
/// Thousands of random policy sets (Cyclonus-style), each compiled for both nodes and run by the
/// simulator for every pair of the nine pods and the outside host, over both ports, all three
/// protocols and both families, against the reference evaluator.
/// </summary>
public sealed class RandomPolicyTests
{
    private const int Worlds = 500;

    [Fact]
    public void CompiledTablesAgreeWithTheReferenceEvaluatorOnRandomPolicies()
    {
        var state = UpstreamModel.Build(UpstreamModel.LabAddresses);
        int cells = 0, allowed = 0;
        for (int seed = 1; seed <= Worlds; seed++)
        {
            RandomPolicies.Apply(state, seed);
            var policies = state.Policies;
            var namespaces = state.NamespaceObjects();
            var pods = state.Pods.Zip(state.PodObjects()).ToList();
            var simulators = state.Nodes.ToDictionary(n => n, n => new RulesetSimulator(state.Compile(n).Table));
            foreach (var family in new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
            {
                var external = Endpoint.External(family == AddressFamily.InterNetwork ? PolicyLab.ExternalV4 : PolicyLab.ExternalV6);
                var endpoints = pods.Select(p => (Model: (ModelPod?)p.First, Endpoint: Endpoint.OfPod(p.Second, p.First.Address(family)))).Append((null, external)).ToList();
                foreach (var from in endpoints)
                    foreach (var to in endpoints)
                    {
                        if (from.Endpoint == to.Endpoint || (from.Model is null && to.Model is null)) continue;
                        foreach (var port in UpstreamModel.ServedPorts)
                            foreach (var protocol in TransportProtocols.All)
                            {
                                bool expected = ReferenceEvaluator.Allows(policies, namespaces, from.Endpoint, to.Endpoint, port, protocol.ApiName());
                                var packet = new Packet(from.Endpoint.Address, to.Endpoint.Address, protocol, port);
                                bool compiled = (from.Model is null || simulators[from.Model.Node].Accepts(packet))
                                    && (to.Model is null || to.Model.Node == from.Model?.Node || simulators[to.Model.Node].Accepts(packet));
                                if (expected != compiled)
                                    Assert.Fail($"seed {seed}: {protocol.ApiName()}/{port} {from.Endpoint} -> {to.Endpoint}: the evaluator says {expected}, the compiled tables say {compiled}\n{Describe(policies)}");
                                cells++;
                                if (expected) allowed++;
                            }
                    }
            }
        }
        // The generator must produce both outcomes in quantity, or the agreement proves little.
        Assert.InRange(allowed, cells / 10, cells * 9 / 10);
    }

    private static string Describe(IEnumerable<V1NetworkPolicy> policies) =>
        string.Join("\n", policies.Select(p => k8s.KubernetesJson.Serialize(p)));
}
