using Trellis.NetworkPolicy.Applying;
using Trellis.NetworkPolicy.Compiling;

namespace Trellis.NodeAgent.NetworkPolicy;

/// <summary>What the node enforces now, for metrics: swapped whole after every pass, never changed in place.</summary>
public sealed record PolicyEnforcement(CompiledPolicies Compiled, TableWrite LastWrite, DateTimeOffset At, double CompileMilliseconds, double WriteMilliseconds, string? BridgeProblem);

/// <summary>The latest <see cref="PolicyEnforcement"/> and the writer that can read its counters, shared by the enforcer and the metrics endpoint.</summary>
public sealed class PolicyEnforcementState
{
    private PolicyEnforcement? _current;

    public PolicyEnforcement? Current => Volatile.Read(ref _current);

    public PolicyTableWriter? Writer { get; set; }

    public void Publish(PolicyEnforcement enforcement) => Volatile.Write(ref _current, enforcement);
}
