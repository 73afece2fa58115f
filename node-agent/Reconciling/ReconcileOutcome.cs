namespace Trellis.NodeAgent.Reconciling;

/// <summary>How a pass went for one NodeSubnet, in the words its Programmed condition carries.</summary>
public sealed record ReconcileOutcome(bool Programmed, string Reason, string Message)
{
    public const string ReasonProgrammed = "Programmed";
    public const string ReasonNoNodeSubnet = "NoNodeSubnet";
    public const string ReasonInvalidSpec = "InvalidSpec";
    public const string ReasonUnderlayNotFound = "UnderlayNotFound";
    public const string ReasonPeersSkipped = "PeersSkipped";
    public const string ReasonUnsafeBlock = "UnsafeBlock";
    public const string ReasonKernelError = "KernelError";
    public const string ReasonCniError = "CniConfigError";

    /// <summary>Failures that may pass on their own (a device busy, a directory not mounted yet, a route in the way): worth a retry.</summary>
    public bool Retryable => Reason is ReasonKernelError or ReasonCniError or ReasonUnderlayNotFound;
}
