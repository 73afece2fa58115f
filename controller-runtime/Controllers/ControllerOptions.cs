namespace Trellis.ControllerRuntime.Controllers;

public sealed record ControllerOptions
{
    /// <summary>Names the controller in logs.</summary>
    public required string Name { get; init; }

    /// <summary>How many keys are reconciled at once; one key is never reconciled by two workers at once.</summary>
    public int Workers { get; init; } = 2;
}
