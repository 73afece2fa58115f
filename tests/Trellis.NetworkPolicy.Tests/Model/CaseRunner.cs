using Trellis.NetworkPolicy.Facts;

namespace Trellis.NetworkPolicy.Tests.Model;

/// <summary>
/// Plays an upstream case on a <see cref="ClusterState"/>: changes it step by step and, at each
/// check, hands the state and the expected table (all nine pods, as upstream writes it) to <paramref name="check"/>.
/// </summary>
public static class CaseRunner
{
    public static async Task RunAsync(UpstreamCase testCase, ClusterState state, Func<Check, Reachability, Task> check)
    {
        UpstreamModel.Reset(state);
        var addresses = new CaseAddresses(pod => state.Pod(pod).Addresses);
        foreach (var step in testCase.Steps)
        {
            switch (step)
            {
                case ApplyPolicy apply:
                    state.Apply(apply.Build(addresses));
                    break;
                case DeleteAllPolicies:
                    state.DeleteAllPolicies();
                    break;
                case LabelNamespace label:
                    state.NamespaceLabels[label.Namespace][label.Key] = label.Value;
                    break;
                case LabelPod label:
                    state.Pod(label.Pod).Labels[label.Key] = label.Value;
                    break;
                case Check c:
                    await check(c, c.Expected(new Reachability(UpstreamModel.PodKeys)));
                    break;
            }
        }
    }

    public static TransportProtocol Protocol(this Check check) =>
        TransportProtocols.TryParse(check.Protocol, out var protocol) ? protocol : throw new ArgumentException(check.Protocol);
}
